"""The status board as data: display rows, stage text, CSV export and chart data.

Everything here reads the database only (never HeyGen). The rows themselves come from
:func:`core.generation.board` (one indexed query); this module turns them into a
``pandas.DataFrame`` for the page and a CSV for export, and reads the history tables
(``reel_events``, ``reel_attempts``) for the charts. Times are aware UTC datetimes,
durations seconds, money USD.
"""

from __future__ import annotations

import io
import threading
import time as clock
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Select, String, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session, sessionmaker

from core import generation
from core.generation import BoardRow, RenderTimeModel
from core.models import REEL_STATUSES, Reel, ReelAttempt, ReelEvent, utcnow

#: How each status reads on the board.
STATUS_LABELS: dict[str, str] = {
    "draft": "Draft",
    "queued": "Queued",
    "submitting": "Submitting",
    "pending": "Pending at HeyGen",
    "processing": "Rendering",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "stuck": "Stuck",
}
#: The board's colour code (hex) per status, in :data:`core.models.REEL_STATUSES` order, plus ``stuck``.
STATUS_COLORS: dict[str, str] = {
    "draft": "#BDBDBD",
    "queued": "#64B5F6",
    "submitting": "#1E88E5",
    "pending": "#9575CD",
    "processing": "#FB8C00",
    "completed": "#43A047",
    "failed": "#E53935",
    "cancelled": "#424242",
    "stuck": "#B71C1C",
}
#: Most rows the board shows at once (newest activity first).
BOARD_LIMIT = 20_000


def status_label(status: str) -> str:
    """``"Failed"`` for ``"failed"``, ``"Pending at HeyGen"`` for ``"pending"``; unknown statuses as they are."""
    return STATUS_LABELS.get(status, status)


def human_duration(seconds: float | None) -> str:
    """``"45 s"``, ``"3 min"``, ``"1 h 5 min"``; ``"—"`` for ``None``."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def human_ago(t: datetime | None, now: datetime | None = None) -> str:
    """``"just now"``, ``"3 min ago"``, ``"2 h ago"``, ``"5 days ago"``; ``"never"`` for ``None``."""
    if t is None:
        return "never"
    seconds = ((now or utcnow()) - t).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min ago"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def stage_text(row: BoardRow, model: RenderTimeModel, now: datetime | None = None) -> str:
    """One phrase saying where a reel is, e.g. ``"Rendering — about 3 min left"``.

    Remaining time = the model's expected render seconds for the reel's estimated length
    minus the time since submission. Stuck reels (``row.stuck``) say so first.
    """
    now = now or utcnow()
    status = row.status
    if row.stuck:
        started = row.processing_at or row.submitted_at
        waited = (now - started).total_seconds() if started else None
        return f"⚠️ Stuck — no result after {human_duration(waited)}"
    if status == "draft":
        return "Not launched yet"
    if status == "queued":
        return "Waiting for a free HeyGen slot" if (row.attempt or 0) <= 1 else f"Queued again (attempt {row.attempt})"
    if status == "submitting":
        return "Sending to HeyGen"
    if status in generation.RENDERING_STATUSES:
        verb = "Waiting at HeyGen" if status == "pending" else "Rendering"
        if row.submitted_at is None:
            return verb
        left = model.expected_seconds(row.estimated_duration_s) - (now - row.submitted_at).total_seconds()
        if left <= 0:
            return f"{verb} — taking longer than usual"
        if left < 60:
            return f"{verb} — less than a minute left"
        return f"{verb} — about {human_duration(left)} left"
    if status == "completed":
        return f"Ready — {human_duration(row.duration_s)} video" if row.duration_s else "Ready"
    if status == "failed":
        return f"Failed (attempt {row.attempt})" if (row.attempt or 0) > 1 else "Failed"
    if status == "cancelled":
        return "Cancelled before submission"
    return status


def failure_reason(row: BoardRow) -> str | None:
    """``"Your HeyGen balance is too low. (insufficient_credit)"`` or ``None`` when the reel has no failure."""
    if row.status != "failed" and not row.failure_message:
        return None
    message = (row.failure_message or "HeyGen gave no reason.").strip()
    return f"{message} ({row.failure_code})" if row.failure_code else message


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows.

    ``statuses``: any of these (empty = all); ``owner``: exact owner (empty = everyone);
    ``start``/``end``: last activity (``updated_at``) on or after ``start`` and on or before
    ``end`` (whole days in ``tz``); ``query``: case-insensitive text in title, owner or video_id.
    """

    statuses: tuple[str, ...] = ()
    owner: str = ""
    start: date | None = None
    end: date | None = None
    query: str = ""
    tz: str = "UTC"


def day_bounds(start: date | None, end: date | None, tz: str = "UTC") -> tuple[datetime | None, datetime | None]:
    """``(since, until)`` aware UTC datetimes covering whole days ``start``..``end`` in ``tz`` (until exclusive)."""
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time.min, zone).astimezone(UTC) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, zone).astimezone(UTC) if end else None
    return since, until


#: Columns of :func:`load_board`'s table, in display order.
FRAME_COLUMNS = [
    "id", "title", "owner", "status_label", "status_tags", "stage", "progress", "submitted", "updated", "duration_s",
    "thumbnail", "video", "failure", "stuck", "status", "attempt", "video_id", "completed_at",
    "estimated_cost_usd",
]
_FETCH = [
    "id", "title", "owner", "status", "attempt", "video_id", "updated_at", "queued_at", "submitted_at",
    "processing_at", "completed_at", "estimated_duration_s", "estimated_cost_usd", "duration_s", "video_url",
    "thumbnail_url", "failure_code", "failure_message",
]
_TIMES = ("updated_at", "queued_at", "submitted_at", "processing_at", "completed_at")


def board_statement(f: BoardFilter, *, limit: int = BOARD_LIMIT, ids: Sequence[int] | None = None) -> Select:
    """The board's one SELECT: :func:`core.generation.board`'s filters and order, plus the end of the date range.

    Time columns come back as the driver delivers them (ISO text on SQLite, datetimes on
    PostgreSQL) so that thousands of rows are parsed at once by pandas, not one by one.
    ``ids``: only these reels (those that changed since the last read, for :class:`BoardStore`).
    """
    since, until = day_bounds(f.start, f.end, f.tz)
    columns = [type_coerce(getattr(Reel, c), String).label(c) if c in _TIMES else getattr(Reel, c) for c in _FETCH]
    stmt = select(*columns)
    if ids is not None:
        stmt = stmt.where(Reel.id.in_(list(ids)))
    stmt = generation.board_filters(stmt, statuses=f.statuses, owner=f.owner, since=since,
                                    until=until, query=f.query)
    return stmt.limit(limit)


def _minutes_text(seconds: pd.Series) -> pd.Series:
    """:func:`human_duration` of many values of at least a minute (others give ``""``), all at once."""
    minutes = np.round(seconds.where(seconds >= 60) / 60)
    texts = {m: human_duration(m * 60) for m in minutes.dropna().unique()}
    return minutes.map(texts).astype(object).fillna("")


def _stages(raw: pd.DataFrame, stuck: pd.Series, model: RenderTimeModel, now: datetime) -> pd.Series:
    """:func:`stage_text` for every row; only rendering reels need per-row arithmetic."""
    status, attempt = raw["status"], raw["attempt"].fillna(0).astype(int)
    stage = status.map({"draft": "Not launched yet", "queued": "Waiting for a free HeyGen slot",
                        "submitting": "Sending to HeyGen", "failed": "Failed",
                        "cancelled": "Cancelled before submission"})
    again = attempt > 1
    stage = stage.mask(status.eq("queued") & again, "Queued again (attempt " + attempt.astype(str) + ")")
    stage = stage.mask(status.eq("failed") & again, "Failed (attempt " + attempt.astype(str) + ")")
    done = status.eq("completed")
    if done.any():
        length = raw["duration_s"].where(done & (raw["duration_s"] > 0))
        texts = {d: f"Ready — {human_duration(d)} video" for d in length.dropna().unique()}
        stage = stage.mask(done, length.map(texts).astype(object).fillna("Ready"))
    rendering = status.isin(generation.RENDERING_STATUSES)
    if rendering.any():
        verb = status.map({"pending": "Waiting at HeyGen", "processing": "Rendering"})
        length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
        elapsed = (pd.Timestamp(now) - raw["submitted_at"]).dt.total_seconds()
        left = (model.overhead_s + model.median_ratio * length - elapsed).where(rendering)
        about = verb + " — about " + _minutes_text(left) + " left"
        text = about.mask(left < 60, verb + " — less than a minute left")
        text = text.mask(left <= 0, verb + " — taking longer than usual")
        text = text.mask(raw["submitted_at"].isna(), verb)
        stage = stage.mask(rendering, text)
    if stuck.any():
        started = raw["processing_at"].fillna(raw["submitted_at"])
        waited = (pd.Timestamp(now) - started).dt.total_seconds().where(stuck)
        stage = stage.mask(stuck, "⚠️ Stuck — no result after " + _minutes_text(waited))
    return stage.fillna(status)


def _raw_frame(rows: Sequence) -> pd.DataFrame:
    """The fetched rows (:data:`_FETCH` columns) as a typed frame: aware UTC times, float seconds/USD."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_FETCH)
    raw = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(_FETCH, columns, strict=True)})
    return _typed(raw)


def _typed(raw: pd.DataFrame) -> pd.DataFrame:
    """``raw`` with typed columns (in place): aware UTC times, float seconds/USD, text as objects."""
    for column in _TIMES:
        # One unit for every time column (an all-empty column would otherwise come back in seconds).
        raw[column] = pd.to_datetime(raw[column], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for column in ("estimated_duration_s", "estimated_cost_usd", "duration_s"):
        raw[column] = raw[column].astype(float)
    for column in ("title", "failure_message", "failure_code"):  # text even when every value is empty
        raw[column] = raw[column].astype(object)
    return raw


def _table(raw: pd.DataFrame, model: RenderTimeModel, now: datetime, stuck_after_minutes: float) -> pd.DataFrame:
    """Vectorised :meth:`RenderTimeModel.progress`, :func:`core.generation.is_stuck`, labels and texts.

    ``raw``: a :func:`_raw_frame` (or rows with :data:`_FETCH` columns as the driver returns them).
    """
    if any(str(raw[column].dtype) != "datetime64[us, UTC]" for column in _TIMES):
        raw = _typed(raw)
    status = raw["status"]
    now_ts = pd.Timestamp(now)
    rendering = status.isin(generation.RENDERING_STATUSES)
    length = raw["estimated_duration_s"].where(raw["estimated_duration_s"] > 0, 30.0)
    expected = (model.overhead_s + model.median_ratio * length).clip(lower=1.0)
    ratio = ((now_ts - raw["submitted_at"]).dt.total_seconds() / expected).clip(0.02, 0.95)
    progress = np.select([status.eq("completed"), status.eq("submitting"), rendering & raw["submitted_at"].notna()],
                         [1.0, 0.02, ratio], 0.0)
    started = raw["processing_at"].fillna(raw["submitted_at"])
    limit = (3 * (model.overhead_s + model.p90_ratio * length)).clip(lower=generation.STUCK_FLOOR_S)
    limit = limit.clip(upper=stuck_after_minutes * 60.0)
    stuck = rendering & started.notna() & ((now_ts - started).dt.total_seconds() > limit)
    has_failure = status.eq("failed") | raw["failure_message"].notna()
    message = raw["failure_message"].fillna("HeyGen gave no reason.").str.strip()
    failure = message.where(raw["failure_code"].isna(), message + " (" + raw["failure_code"].fillna("") + ")")
    labels = {s: status_label(s) for s in status.unique()}
    title = raw["title"].fillna("")
    return pd.DataFrame({
        "id": raw["id"],
        "title": title.where(title != "", "Reel " + raw["id"].astype(str)),
        "owner": raw["owner"],
        "status_label": status.map(labels),
        "status_tags": _status_tags(status, stuck.to_numpy(dtype=bool)),
        "stage": _stages(raw, stuck, model, now),
        "progress": progress.astype(float),
        "submitted": raw["submitted_at"].fillna(raw["queued_at"]),
        "updated": raw["updated_at"],
        "duration_s": raw["duration_s"].where(raw["duration_s"] > 0, raw["estimated_duration_s"]),
        "thumbnail": raw["thumbnail_url"],
        "video": raw["video_url"].where(status.eq("completed"), None),
        "failure": failure.where(has_failure, None),
        "stuck": stuck.astype(bool),
        "status": status,
        "attempt": raw["attempt"],
        "video_id": raw["video_id"],
        "completed_at": raw["completed_at"],
        "estimated_cost_usd": raw["estimated_cost_usd"],
    }, columns=FRAME_COLUMNS)


def load_board(
    session: Session, f: BoardFilter, *, stuck_after_minutes: float = 30.0, now: datetime | None = None,
    limit: int = BOARD_LIMIT,
) -> tuple[pd.DataFrame, RenderTimeModel]:
    """The filtered board as a table with :data:`FRAME_COLUMNS`, and the render-time model used for it.

    Two queries: :func:`core.generation.render_time_model`, then :func:`board_statement` (one
    indexed SELECT, no per-row queries). The values equal what :func:`core.generation.board`
    gives row by row (``progress``, ``stuck``; checked by the tests), computed for all rows at
    once. ``status_label`` the label, ``status_tags`` ``[status]`` or ``[status, "stuck"]`` (coloured tags); ``stage`` from :func:`stage_text`; ``submitted`` the
    submission, else launch time, and ``updated`` aware UTC; ``duration_s`` the real length when
    finished, else the estimate; ``video`` the MP4 link of completed reels; ``failure`` from
    :func:`failure_reason`; ``status`` the raw status.
    """
    now = now or utcnow()
    model = generation.render_time_model(session)
    raw = _raw_frame(session.execute(board_statement(f, limit=limit)).all())
    return _table(raw, model, now, stuck_after_minutes), model


#: Seconds a refreshed board is handed out as it is (all open tabs share one refresh).
SHARE_SECONDS = 2.0
#: Seconds between full rebuilds of a board: a safety net for changes an incremental read cannot see
#: (a writer whose clock lags by more than :data:`OVERLAP_SECONDS`).
FULL_RELOAD_SECONDS = 300.0
#: Each incremental read also re-reads rows whose ``updated_at`` is up to this many seconds older than
#: the newest change seen: covers transactions that commit after a read with an earlier timestamp, and
#: small clock differences between app, worker and webhook processes.
OVERLAP_SECONDS = 30.0
#: An incremental read that finds more changed reels than this rebuilds the board instead.
MAX_CHANGED = 2_000
#: The render-time model is re-read when reels changed, else at least this often (seconds).
MODEL_SECONDS = 60.0


#: Reel count, highest id and newest ``updated_at``: three subqueries, each one an index lookup (one
#: ``count(*), max(id), max(updated_at)`` would scan the table; so would joining this to the next query,
#: which SQLite flattens).
_TOTALS = select(select(func.count()).select_from(Reel).scalar_subquery(),
                 select(func.max(Reel.id)).scalar_subquery(),
                 select(func.max(Reel.updated_at)).scalar_subquery())
#: ``id, updated_at`` (as the driver returns it) of the reels changed since ``:since``.
_RECENT = (select(Reel.id, type_coerce(Reel.updated_at, String))
           .where(Reel.updated_at >= bindparam("since", type_=Reel.updated_at.type)).limit(MAX_CHANGED + 1))


@dataclass
class _Board:
    """One filter's board in a :class:`BoardStore`."""

    raw: pd.DataFrame  # _raw_frame rows in board order (RangeIndex)
    table: pd.DataFrame  # _table(raw) in the same order, time-dependent columns as of the last build
    frame: pd.DataFrame  # what BoardStore.get hands out: table with time-dependent columns as of `refreshed`
    model: RenderTimeModel
    watermark: datetime  # newest updated_at seen in the whole reels table (capped at the read time)
    recent: dict[int, object]  # id → updated_at (as the driver returns it) of the reels in the last overlap read
    live: _Live | None  # inputs of the time-dependent columns (rendering reels of `raw`)
    count: int  # reels in the whole table at the last read
    max_id: int  # highest reel id at the last read
    loaded: float  # monotonic seconds of the last full build
    refreshed: float  # monotonic seconds of the last refresh
    modelled: float  # monotonic seconds when `model` was read


class BoardStore:
    """Process-wide, incremental status boards: one built table per filter, shared by every open tab.

    :meth:`get` hands out the same frame for :data:`SHARE_SECONDS`; after that it refreshes the
    board incrementally, in two small indexed queries when nothing changed:

    1. ``count(*)``, ``max(id)``, ``max(updated_at)`` of ``reels`` (whole table);
    2. ``id, updated_at`` of the reels with ``updated_at`` ≥ the last newest change −
       :data:`OVERLAP_SECONDS` (index ``ix_reels_updated_at``); those not seen with the same
       ``updated_at`` by the previous read have changed. Only when there are some, their board rows
       are read with the filter (:func:`board_statement` with ``ids``) and spliced in (a changed reel
       that no longer matches the filter leaves the board), and
       :func:`core.generation.render_time_model` is read again (a finished render changes its reel;
       else at least every :data:`MODEL_SECONDS`).

    Then only the time-dependent columns (``progress``, ``stage``, ``stuck``, ``status_tags``) of
    rendering reels are recomputed. A reel count that the changes do not explain (a deleted draft, a
    row inserted with an old ``updated_at``), more than :data:`MAX_CHANGED` changes, a truncated board
    (:data:`BOARD_LIMIT`) that changed, or :data:`FULL_RELOAD_SECONDS` since the last build → the
    board is rebuilt with :func:`load_board`'s query. Writers must set ``updated_at`` on every change
    (:func:`core.generation.transition` and the model's ``onupdate`` do).

    Frames handed out are shared: callers must not modify them. Thread-safe.
    """

    def __init__(self, session_factory: sessionmaker, *, max_boards: int = 16) -> None:
        self.session_factory = session_factory
        self.max_boards = max_boards
        self._boards: OrderedDict[tuple, _Board] = OrderedDict()
        self._locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(
        self, f: BoardFilter, *, stuck_after_minutes: float = 30.0, limit: int = BOARD_LIMIT,
        max_age_s: float = SHARE_SECONDS,
    ) -> tuple[pd.DataFrame, RenderTimeModel]:
        """``(board table with FRAME_COLUMNS, render-time model)``, at most ``max_age_s`` seconds old."""
        key = (f, float(stuck_after_minutes), limit)
        board = self._peek(key)
        if board is not None and clock.monotonic() - board.refreshed < max_age_s:
            return board.frame, board.model
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            board = self._peek(key)  # another thread may have refreshed it meanwhile
            if board is None or clock.monotonic() - board.refreshed >= max_age_s:
                with self.session_factory() as session:
                    board = self._refresh(session, f, board, stuck_after_minutes, limit)
                with self._lock:
                    self._boards[key] = board
                    self._boards.move_to_end(key)
                    while len(self._boards) > self.max_boards:
                        old, _ = self._boards.popitem(last=False)
                        self._locks.pop(old, None)
            return board.frame, board.model

    def expire(self) -> None:
        """Make the next :meth:`get` of every board read the database (incrementally)."""
        with self._lock:
            for board in self._boards.values():
                board.refreshed = float("-inf")

    def clear(self) -> None:
        """Forget every board (the next :meth:`get` rebuilds it)."""
        with self._lock:
            self._boards.clear()

    def _peek(self, key: tuple) -> _Board | None:
        with self._lock:
            return self._boards.get(key)

    def _refresh(self, session: Session, f: BoardFilter, board: _Board | None, stuck_after_minutes: float,
                 limit: int) -> _Board:
        now, started = utcnow(), clock.monotonic()
        count, max_id, newest = session.execute(_TOTALS).one()
        max_id = max_id or 0
        watermark = min(newest, now) if newest is not None else now
        since = (board.watermark if board is not None else watermark) - timedelta(seconds=OVERLAP_SECONDS)
        recent = dict(session.execute(_RECENT, {"since": since}).all())
        state = (count, max_id, watermark, recent)
        changed = [reel_id for reel_id, stamp in recent.items() if board is None or board.recent.get(reel_id) != stamp]
        # The model learns from finished renders, and a finished render changes its reel: re-read it then
        # (and at least every MODEL_SECONDS).
        if board is None or changed or started - board.modelled >= MODEL_SECONDS:
            model, modelled = generation.render_time_model(session), started
        else:
            model, modelled = board.model, board.modelled
        if board is None or started - board.loaded >= FULL_RELOAD_SECONDS or len(recent) > MAX_CHANGED:
            return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
        inserted = sum(1 for reel_id in changed if reel_id > board.max_id)
        if count != board.count + inserted:  # a deleted reel, or one inserted with an old updated_at
            return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
        raw, table = board.raw, board.table
        if changed:
            fresh = _raw_frame(session.execute(board_statement(f, limit=limit, ids=changed)).all())
            keep = ~raw["id"].isin(changed).to_numpy()
            if len(raw) >= limit and not keep.all():  # rows beyond the limit may have to move up
                return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
            raw = pd.concat([fresh, raw[keep]], ignore_index=True)
            table = pd.concat([_table(fresh, model, now, stuck_after_minutes), table[keep]], ignore_index=True)
            order = np.lexsort((raw["id"].to_numpy(), raw["updated_at"].astype("int64").to_numpy()))[::-1]
            raw, table = raw.take(order).reset_index(drop=True), table.take(order).reset_index(drop=True)
            live = _live_inputs(raw)
        else:
            live = board.live
        frame = _with_live_columns(table, live, model, now, stuck_after_minutes)
        return _Board(raw, table, frame, model, watermark, recent, live, count, max_id, board.loaded,
                      clock.monotonic(), modelled)

    def _build(self, session: Session, f: BoardFilter, model: RenderTimeModel, modelled: float, now: datetime,
               stuck_after_minutes: float, limit: int, state: tuple) -> _Board:
        count, max_id, watermark, recent = state
        raw = _raw_frame(session.execute(board_statement(f, limit=limit)).all())
        table = _table(raw, model, now, stuck_after_minutes)
        started = clock.monotonic()
        return _Board(raw, table, table, model, watermark, recent, _live_inputs(raw), count, max_id, started, started,
                      modelled)


@dataclass(frozen=True)
class _Live:
    """What the time-dependent columns of a board's rendering reels are computed from (numpy arrays)."""

    positions: np.ndarray  # row positions in the board
    statuses: list[str]
    submitted: np.ndarray  # µs since the epoch (int64; see has_submitted)
    has_submitted: np.ndarray
    started: np.ndarray  # processing_at, else submitted_at, µs since the epoch
    has_started: np.ndarray
    length: np.ndarray  # estimated seconds of video, 30 when unknown


def _live_inputs(raw: pd.DataFrame) -> _Live | None:
    """The :class:`_Live` of a board's rows (``None`` when no reel is rendering)."""
    positions = np.flatnonzero(raw["status"].isin(generation.RENDERING_STATUSES).to_numpy())
    if not len(positions):
        return None
    live = raw.iloc[positions]
    started = live["processing_at"].fillna(live["submitted_at"])
    estimate = live["estimated_duration_s"].to_numpy(dtype=float)
    return _Live(
        positions, live["status"].tolist(),
        live["submitted_at"].to_numpy(dtype="datetime64[us]").astype("int64"), live["submitted_at"].notna().to_numpy(),
        started.to_numpy(dtype="datetime64[us]").astype("int64"), started.notna().to_numpy(),
        np.where(estimate > 0, estimate, 30.0),  # NaN > 0 is False: unknown → 30 s
    )


def _with_live_columns(table: pd.DataFrame, live: _Live | None, model: RenderTimeModel, now: datetime,
                       stuck_after_minutes: float) -> pd.DataFrame:
    """``table`` with ``progress``, ``stage``, ``stuck`` and ``status_tags`` of rendering reels as of ``now``.

    Only rendering reels (pending, processing) have time-dependent values; the others are kept. Same
    formulas as :func:`_table` and :func:`_stages`, in numpy over the rendering rows only.
    """
    if live is None:
        return table
    positions, submitted, has_submitted = live.positions, live.submitted, live.has_submitted
    started, has_started, length = live.started, live.has_started, live.length
    now_us = pd.Timestamp(now).value // 1000  # ns → µs since the epoch
    elapsed = (now_us - submitted) / 1e6
    expected = model.overhead_s + model.median_ratio * length
    progress = np.where(has_submitted, np.clip(elapsed / np.maximum(expected, 1.0), 0.02, 0.95), 0.0)
    waited = (now_us - started) / 1e6
    limit = np.minimum(np.maximum(3 * (model.overhead_s + model.p90_ratio * length), generation.STUCK_FLOOR_S),
                       stuck_after_minutes * 60.0)
    stuck = has_started & (waited > limit)
    left = expected - elapsed
    minutes = np.round(np.where(stuck, waited, left) / 60)  # as _minutes_text rounds
    texts = {m: human_duration(m * 60) for m in np.unique(minutes[np.isfinite(minutes)]).tolist()}
    stages = []
    for status, is_stuck, sent, remaining, rounded in zip(
            live.statuses, stuck.tolist(), has_submitted.tolist(), left.tolist(), minutes.tolist(),
            strict=True):
        verb = "Waiting at HeyGen" if status == "pending" else "Rendering"
        if is_stuck:
            stages.append("⚠️ Stuck — no result after " + texts[rounded])
        elif not sent:
            stages.append(verb)
        elif remaining <= 0:
            stages.append(f"{verb} — taking longer than usual")
        elif remaining < 60:
            stages.append(f"{verb} — less than a minute left")
        else:
            stages.append(f"{verb} — about {texts[rounded]} left")
    out = table.copy(deep=False)
    for column, values in (("progress", progress), ("stuck", stuck)):
        merged = out[column].to_numpy(copy=True)
        merged[positions] = values
        out[column] = merged
    out["stage"] = _splice(out["stage"], positions, stages)
    tags = out["status_tags"].to_numpy(dtype=object, copy=True)
    for position, status, flag in zip(positions.tolist(), live.statuses, stuck.tolist(), strict=True):
        tags[position] = _tags(status, flag)
    out["status_tags"] = tags
    return out


#: The tag lists of the ``status_tags`` column, shared by every row with the same tags (never modified):
#: no Python list is allocated per row and per refresh.
_TAG_LISTS: dict[tuple[str, bool], list[str]] = {}


def _tags(status: str, stuck: bool) -> list[str]:
    tags = _TAG_LISTS.get((status, stuck))
    if tags is None:
        tags = _TAG_LISTS.setdefault((status, stuck), [status, "stuck"] if stuck else [status])
    return tags


def _status_tags(status: pd.Series, stuck: np.ndarray) -> pd.Series:
    """``[status]`` or ``[status, "stuck"]`` per row (shared lists from :data:`_TAG_LISTS`)."""
    values = np.empty(len(status), dtype=object)
    for n, (name, flag) in enumerate(zip(status.tolist(), stuck.tolist(), strict=True)):
        values[n] = _tags(name, flag)
    return pd.Series(values, index=status.index, name="status_tags", dtype=object)


def _splice(column: pd.Series, positions: np.ndarray, values: list[str]) -> pd.Series:
    """``column`` with ``values`` at ``positions``; Arrow-backed text stays Arrow-backed (cheap to send)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        base = pa.array(column)
        index = np.arange(len(base))
        index[positions] = len(base) + np.arange(len(positions))
        spliced = pc.take(pa.concat_arrays([base, pa.array(values, type=base.type)]), pa.array(index))
        return pd.Series(pd.array(spliced, dtype=column.dtype), index=column.index, name=column.name)
    except (ImportError, TypeError, ValueError, NotImplementedError):  # not Arrow-backed: plain objects
        merged = column.to_numpy(dtype=object, copy=True)
        merged[positions] = values
        return pd.Series(merged, index=column.index, name=column.name, dtype=column.dtype)


#: Columns of the CSV export, with their headers.
CSV_COLUMNS = {
    "id": "reel_id", "title": "title", "owner": "owner", "status": "status", "stage": "stage",
    "progress": "progress", "submitted": "submitted_utc", "updated": "updated_utc",
    "completed_at": "completed_utc", "duration_s": "duration_s", "estimated_cost_usd": "estimated_cost_usd",
    "attempt": "attempt", "video_id": "video_id", "video": "video_url", "failure": "failure_reason",
    "stuck": "stuck",
}


def board_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a :func:`load_board` table: one line per reel, ISO 8601 UTC times, progress 0..1."""
    out = frame[list(CSV_COLUMNS)].rename(columns=CSV_COLUMNS).copy()
    for column in ("submitted_utc", "updated_utc", "completed_utc"):
        out[column] = out[column].map(lambda t: t.isoformat() if pd.notna(t) else "")
    out["progress"] = out["progress"].round(3)
    out["stage"] = out["stage"].astype(str).str.replace("⚠️ ", "", regex=False)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def owners(session: Session) -> list[str]:
    """Distinct non-empty reel owners, sorted case-insensitively (one query)."""
    names = session.scalars(select(Reel.owner).where(Reel.owner != "").distinct()).all()
    return sorted(names, key=str.lower)


def status_timeline(session: Session, *, days: int = 14, now: datetime | None = None) -> pd.DataFrame:
    """Status changes per time bucket from ``reel_events``: columns ``bucket`` (aware UTC), ``status``, ``reels``.

    Counts the reels that reached each status (events whose status changed) in the last
    ``days`` days; buckets are hours when everything happened within two days, else days.
    """
    now = now or utcnow()
    rows = session.execute(
        select(ReelEvent.at, ReelEvent.to_status)
        .where(ReelEvent.at >= now - timedelta(days=days))
        .where((ReelEvent.from_status.is_(None)) | (ReelEvent.from_status != ReelEvent.to_status))
    ).all()
    if not rows:
        return pd.DataFrame({"bucket": pd.Series([], dtype="datetime64[ns, UTC]"), "status": [], "reels": []})
    frame = pd.DataFrame(rows, columns=["at", "status"])
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    span = frame["at"].max() - frame["at"].min()
    frame["bucket"] = frame["at"].dt.floor("h" if span <= pd.Timedelta(days=2) else "D")
    counts = frame.groupby(["bucket", "status"]).size().reset_index(name="reels")
    order = {s: i for i, s in enumerate(REEL_STATUSES)}
    return counts.sort_values(["bucket", "status"], key=lambda s: s.map(order) if s.name == "status" else s,
                              ignore_index=True)


def render_times(session: Session, *, limit: int = 500) -> pd.DataFrame:
    """Finished renders from ``reel_attempts``: ``finished_at`` (UTC), ``video_s`` (output seconds),
    ``render_min`` (minutes from submission to completion), ``reel_id``; newest ``limit`` first."""
    rows = session.execute(
        select(ReelAttempt.reel_id, ReelAttempt.finished_at, ReelAttempt.duration_s, ReelAttempt.render_seconds)
        .where(ReelAttempt.render_seconds.is_not(None))
        .order_by(ReelAttempt.id.desc()).limit(limit)
    ).all()
    frame = pd.DataFrame(rows, columns=["reel_id", "finished_at", "video_s", "render_s"])
    frame["finished_at"] = pd.to_datetime(frame["finished_at"], utc=True)
    frame["render_min"] = frame["render_s"].astype(float) / 60.0
    return frame.drop(columns=["render_s"])
