"""The incremental status board shared by every open tab of one process.
"""

from __future__ import annotations

import threading
import time as clock
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import String, bindparam, func, select, type_coerce
from sqlalchemy.orm import Session, sessionmaker

from core import models
from core.board import timing
from core.board.rows import BOARD_LIMIT, BoardFilter, board_statement, board_table, raw_frame
from core.board.timing import RenderTimeModel
from core.models import Reel, utcnow

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

    raw: pd.DataFrame  # raw_frame rows in board order (RangeIndex)
    table: pd.DataFrame  # table(raw) in the same order, time-dependent columns as of the last build
    frame: pd.DataFrame  # what BoardStore.get hands out: table with time-dependent columns as of `refreshed`
    model: RenderTimeModel
    watermark: datetime  # newest updated_at seen in the whole reels table (capped at the read time)
    recent: dict[int, object]  # id → updated_at (as the driver returns it) of the reels in the last overlap read
    live: np.ndarray | None  # row positions of the rendering reels of `raw` (time-dependent columns)
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
       :func:`core.board.timing.render_time_model` is read again (a finished render changes its reel;
       else at least every :data:`MODEL_SECONDS`).

    Then only the time-dependent columns (``progress``, ``stage``, ``stuck``, ``status_tags``) of
    rendering reels are recomputed. A reel count that the changes do not explain (a deleted draft, a
    row inserted with an old ``updated_at``), more than :data:`MAX_CHANGED` changes, a truncated board
    (:data:`BOARD_LIMIT` rows) that lost a reel to its filter, or :data:`FULL_RELOAD_SECONDS` since the
    last build → the board is rebuilt with :func:`load_board`'s query. A truncated board whose reels
    only changed, or that gained new ones, stays incremental: a change makes a reel newer, so the
    newest ``limit`` rows are among the board's and the changed ones. Writers must set ``updated_at`` on every change
    (:func:`core.jobs.lifecycle.transition` and the model's ``onupdate`` do).

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
            model, modelled = timing.render_time_model(session), started
        else:
            model, modelled = board.model, board.modelled
        if board is None or started - board.loaded >= FULL_RELOAD_SECONDS or len(recent) > MAX_CHANGED:
            return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
        inserted = sum(1 for reel_id in changed if reel_id > board.max_id)
        if count != board.count + inserted:  # a deleted reel, or one inserted with an old updated_at
            return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
        raw, table = board.raw, board.table
        if changed:
            fresh = raw_frame(session.execute(board_statement(f, limit=limit, ids=changed)).all())
            keep = ~raw["id"].isin(changed).to_numpy()
            truncated = len(raw) >= limit
            raw = pd.concat([fresh, raw[keep]], ignore_index=True)
            if truncated and len(raw) < limit:  # a reel left a truncated board: one beyond the limit moves up
                return self._build(session, f, model, modelled, now, stuck_after_minutes, limit, state)
            table = pd.concat([board_table(fresh, model, now, stuck_after_minutes), table[keep]], ignore_index=True)
            # A change only makes a reel newer, so the board's rows plus the changed ones still hold the
            # newest `limit`: the order, then the limit, give what a full read would.
            order = np.lexsort((raw["id"].to_numpy(), raw["updated_at"].astype("int64").to_numpy()))[::-1][:limit]
            raw, table = raw.take(order).reset_index(drop=True), table.take(order).reset_index(drop=True)
            live = _live_inputs(raw)
        else:
            live = board.live
        frame = _with_live_columns(table, raw, live, model, now, stuck_after_minutes)
        return _Board(raw, table, frame, model, watermark, recent, live, count, max_id, board.loaded,
                      clock.monotonic(), modelled)

    def _build(self, session: Session, f: BoardFilter, model: RenderTimeModel, modelled: float, now: datetime,
               stuck_after_minutes: float, limit: int, state: tuple) -> _Board:
        count, max_id, watermark, recent = state
        raw = raw_frame(session.execute(board_statement(f, limit=limit)).all())
        table = board_table(raw, model, now, stuck_after_minutes)
        started = clock.monotonic()
        return _Board(raw, table, table, model, watermark, recent, _live_inputs(raw), count, max_id, started, started,
                      modelled)


def _live_inputs(raw: pd.DataFrame) -> np.ndarray | None:
    """Row positions of a board's rendering reels (``None`` when no reel is rendering)."""
    positions = np.flatnonzero(raw["status"].isin(models.RENDERING_STATUSES).to_numpy())
    return positions if len(positions) else None


def _with_live_columns(table: pd.DataFrame, raw: pd.DataFrame, live: np.ndarray | None, model: RenderTimeModel,
                       now: datetime, stuck_after_minutes: float) -> pd.DataFrame:
    """``table`` with ``progress``, ``stuck``, ``stage`` and ``status_tags`` of the rendering reels (rows ``live``) recomputed as of ``now``.

    The values come from :func:`core.board.rows.board_table` on those rows only, so each formula
    (progress, stuck, stage text) exists once; the other rows are kept as they are.
    """
    if live is None:
        return table
    fresh = board_table(raw.take(live), model, now, stuck_after_minutes)
    out = table.copy(deep=False)
    for column in ("progress", "stuck", "status_tags"):
        merged = out[column].to_numpy(copy=True)
        merged[live] = fresh[column].to_numpy()
        out[column] = merged
    out["stage"] = _splice(out["stage"], live, fresh["stage"].tolist())
    return out


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
