"""The Status page: every reel with its status, refreshed from the database every few seconds.

The board is a fragment (``run_every``) that reads the database only, through a process-wide
incremental board (:class:`core.board.store.BoardStore`): open tabs share one read per two seconds, and a
read fetches only the reels changed since the previous one; the worker and the
webhook receiver are the only writers. Filters live in the URL (``s_`` keys).
"""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st
from sqlalchemy import select

from core.access.actor import Actor
from core.access.permissions import Action, PermissionDenied, reel_denial
from core.board import history as board_history
from core.board import timing
from core.board.history import board_csv
from core.board.rows import BoardFilter, load_board
from core.board.text import STATUS_COLORS, status_label
from core.jobs import lifecycle
from core.jobs.queue import queue_positions
from core.models import REEL_STATUSES, Reel, utcnow
from core.runtime import Runtime
from ui.frame import FrameContext
from ui.links import browser_timezone, page_link
from ui.text import plain
from ui.workspaces import approval_queue

#: Seconds between automatic refreshes of the board.
REFRESH_SECONDS = 5
#: Widget key of the board table (its selection is read through it).
TABLE_KEY = "s_table"

#: Counters above the board: label → statuses counted.
COUNTERS: list[tuple[str, tuple[str, ...], str]] = [
    ("Queued", ("queued", "submitting"), "Launched: the worker sends queued reels to HeyGen on its next cycle (or "
                                         "when a HeyGen slot frees up, if all are busy)"),
    ("Rendering", ("pending", "processing"), "HeyGen has the job"),
    ("Completed", ("completed",), "Finished; watch them on the Videos page"),
    ("Failed", ("failed",), "Select one and press Retry to queue it again"),
    ("Cancelled", ("cancelled",), "Cancelled before anything was sent to HeyGen"),
    ("Drafts", ("draft",), "Not launched yet"),
]

DISPLAY_COLUMNS = ["title", "status_tags", "stage", "owner", "progress", "duration_s", "archive", "failure",
                   "submitted", "updated", "thumbnail", "video", "id"]
#: Events the history chart counts, and their names there (every reel passes through the others too).
TIMELINE_EVENTS = {"queued": "launched", "completed": "completed", "failed": "failed", "cancelled": "cancelled"}
_TAGS = [*REEL_STATUSES, "stuck"]


def column_config(tz: str) -> dict:
    """``st.column_config`` for the columns of :func:`core.board.rows.load_board`."""
    cc = st.column_config
    return {
        "id": cc.NumberColumn("Reel", width="small", format="%d", help="Reel number in Reel Studio"),
        "title": cc.TextColumn("Title", width="medium", pinned=True),
        "owner": cc.TextColumn("Owner", width=140),
        "status_tags": cc.MultiselectColumn("Status", options=_TAGS, color=[STATUS_COLORS[t] for t in _TAGS],
                                            format_func=status_label, width=120),
        "stage": cc.TextColumn("Stage", width=280),
        "queue": cc.NumberColumn("In queue", format="#%d", width="small",
                                 help="Place in the queue: #1 is sent to HeyGen next. Reels launched from Compose "
                                      "go before batch reels; batch reels take turns by owner."),
        "progress": cc.ProgressColumn("Progress", format="percent", min_value=0.0, max_value=1.0, width=110,
                                      help="Estimated from how long our earlier renders took"),
        "submitted": cc.DatetimeColumn("Submitted", format="distance", timezone=tz, width="small",
                                       help="When the reel was sent to HeyGen (or launched, if not sent yet)"),
        "updated": cc.DatetimeColumn("Last change", format="distance", timezone=tz, width="small"),
        "duration_s": cc.NumberColumn("Length", format="%.0f s", width="small",
                                      help="Video length in seconds; an estimate until the video is finished"),
        "thumbnail": cc.ImageColumn("Preview", width="small"),
        "video": cc.LinkColumn("Video", display_text="Open MP4", width="small",
                               help="HeyGen's download link; if it expired, refresh it on the Videos page"),
        "failure": cc.TextColumn("Failure reason", width="medium", help="HeyGen's reason and code"),
        "archive": cc.TextColumn("Archive", width="small",
                                 help="Whether the finished video is copied out of HeyGen (its links expire after "
                                      "7 days); a failed copy is retried by the worker"),
    }


def board_data(runtime: Runtime, db_url: str, statuses: tuple[str, ...], owner: str, start: date | None,
               end: date | None, query: str, tz: str, stuck_after: float,
               batch_id: int | None = None) -> tuple[pd.DataFrame, int]:
    """``(board frame, render samples)`` for the filters, from the process-wide :class:`core.board.store.BoardStore`.

    All tabs share one refresh per 2 s, and a refresh reads only the reels changed since the last
    one. The frame is shared: do not modify it. After an action or "Refresh now", :func:`expire_boards`
    makes the next call read the database.
    """
    f = BoardFilter(statuses=statuses, owner=owner, start=start, end=end, query=query, tz=tz, batch_id=batch_id)
    frame, model = runtime.boards.get(f, stuck_after_minutes=stuck_after)
    return frame, model.samples


#: id(board frame) → (board frame, its DISPLAY_COLUMNS): tabs showing the same board share the selection.
_DISPLAYED: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}


@st.cache_data(ttl=REFRESH_SECONDS, max_entries=4, show_spinner=False)
def queue_places(_runtime: Runtime, db_url: str) -> dict[int, int]:
    """``{reel id: place in the queue}`` of every queued reel (:func:`core.jobs.queue.queue_positions`),
    shared by every tab for :data:`REFRESH_SECONDS`."""
    with _runtime.session_factory() as session:
        return queue_positions(session)


def _with_queue(shown: pd.DataFrame, places: dict[int, int]) -> tuple[pd.DataFrame, list[str]]:
    """The displayed frame plus an "In queue" column (only when a shown reel is queued) and the column order."""
    order = list(DISPLAY_COLUMNS)
    if not places or not shown["id"].isin(places.keys()).any():
        return shown, order
    order.insert(order.index("stage") + 1, "queue")
    return shown.assign(queue=shown["id"].map(places)), order


def _displayed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame[DISPLAY_COLUMNS]``, made once per board frame (board frames are shared and never modified)."""
    hit = _DISPLAYED.get(id(frame))
    if hit is not None and hit[0] is frame:
        return hit[1]
    shown = frame[DISPLAY_COLUMNS]
    if len(_DISPLAYED) >= 4:  # a few boards at a time; old frames must not stay alive
        _DISPLAYED.clear()
    _DISPLAYED[id(frame)] = (frame, shown)
    return shown


def expire_boards(runtime: Runtime) -> None:
    """The next :func:`board_data` call reads the database (after an action or "Refresh now")."""
    runtime.boards.expire()
    queue_places.clear()


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def owner_options(_runtime: Runtime, db_url: str) -> list[str]:
    """Distinct reel owners (refreshed every 30 s)."""
    with _runtime.session_factory() as session:
        return board_history.owners(session)


@st.cache_data(ttl=30, max_entries=16, show_spinner=False)
def history_data(_runtime: Runtime, db_url: str, board_version: tuple = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(status timeline, render times)`` for the charts: read again when ``board_version`` (what the
    board last showed) changes, after "Refresh now", and at least every 30 s."""
    with _runtime.session_factory() as session:
        return board_history.status_timeline(session), board_history.render_times(session)


# --------------------------------------------------------------------------- filters


def filters(ctx: FrameContext) -> BoardFilter:
    """The filter row (all bound to the URL) → the :class:`~core.board.rows.BoardFilter` in force."""
    runtime = ctx.runtime
    owners = owner_options(runtime, runtime.settings.db_url)
    choices = ["", *sorted({*owners, *([ctx.user] if ctx.user else [])}, key=str.lower)]
    c1, c2, c3, c4, c5 = st.columns([2.6, 1.8, 1.7, 1.7, 2.6])
    statuses = c1.multiselect("Status", REEL_STATUSES, key="s_status",
                              bind="query-params", placeholder="All statuses")
    owner = c2.selectbox("Owner", choices, format_func=lambda o: o or "Everyone", key="s_owner",
                         bind="query-params")
    start = c3.date_input("Active from", value=None, key="s_from", bind="query-params",
                          help="Reels with a status change on or after this day")
    end = c4.date_input("Active until", value=None, key="s_to", bind="query-params",
                        help="Reels whose last status change was on or before this day")
    query = c5.text_input("Search", key="s_q", bind="query-params", placeholder="Title, owner or video_id")
    if start and end and end < start:
        st.warning("“Active until” is before “Active from”; no reel can match. Swap the two days.",
                   icon=":material/event_busy:")
    return BoardFilter(statuses=tuple(statuses), owner=owner or "", start=start, end=end,
                       query=(query or "").strip(), tz=browser_timezone(), batch_id=_batch_filter())


def _batch_filter() -> int | None:
    """The batch in ``?s_batch=`` (a link from the Batches page), with a button to show every reel again."""
    raw = st.query_params.get("s_batch", "")
    if not raw.isdigit():
        return None
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.caption(f"Showing the reels of batch {int(raw)} only.")
    c2.button("Show all reels", key="s_batch_clear", on_click=lambda: st.query_params.pop("s_batch", None),
              icon=":material/filter_alt_off:", type="tertiary")
    return int(raw)


# --------------------------------------------------------------------------- actions


def selected_ids(frame: pd.DataFrame, selection_rows: list[int]) -> list[int]:
    """Reel ids the person selected, kept as ids so a refresh that reorders rows cannot change them.

    A selection (row positions) is translated with the ids of the table the person saw when
    making it, i.e. the previous render; it is re-translated only when the selection changes.
    """
    rows = tuple(selection_rows)
    state = st.session_state
    if rows != state.get("s_selection_rows"):
        shown = state.get("s_shown_ids", [])
        state["s_selected_ids"] = [shown[i] for i in rows if 0 <= i < len(shown)]
        state["s_selection_rows"] = rows
    state["s_shown_ids"] = frame["id"].tolist()
    return list(state.get("s_selected_ids", []))


def _act(runtime: Runtime, actor: Actor, ids: list[int], verb: str) -> None:
    action = lifecycle.retry if verb == "retry" else lifecycle.cancel
    results = []
    with runtime.session_factory() as session:
        for reel_id in ids:
            try:
                results.append((reel_id, action(session, reel_id, actor=actor)))
            except PermissionDenied as exc:
                session.rollback()
                results.append((reel_id, lifecycle.LaunchResult(False, "", str(exc))))
    expire_boards(runtime)
    done = [r for r in results if r[1].ok]
    if len(results) == 1:
        st.toast(plain(results[0][1].message), icon=":material/check_circle:" if done else ":material/info:")
    else:
        what = "queued again" if verb == "retry" else "cancelled"
        st.toast(f"{len(done)} of {len(results)} reels {what}.", icon=":material/check_circle:")


def _on_retry(runtime: Runtime, actor: Actor, ids: list[int]) -> None:
    _act(runtime, actor, ids, "retry")


def _on_cancel(runtime: Runtime, actor: Actor, ids: list[int]) -> None:
    _act(runtime, actor, ids, "cancel")


def _on_refresh(runtime: Runtime) -> None:
    expire_boards(runtime)
    history_data.clear()


def _csv_maker(runtime: Runtime, f: BoardFilter):
    stuck_after = runtime.settings.stuck_after_minutes

    def make() -> bytes:
        with runtime.session_factory() as session:
            frame, _ = load_board(session, f, stuck_after_minutes=stuck_after)
        return board_csv(frame)

    return make


def _actions(ctx: FrameContext, frame: pd.DataFrame, ids: list[int], f: BoardFilter) -> None:
    runtime = ctx.runtime
    # The selected rows only: id → (status, title).
    rows = frame.loc[frame["id"].isin(ids), ["id", "status", "title"]] if ids else frame.iloc[:0]
    by_id = {i: (status, title) for i, status, title in zip(rows["id"], rows["status"], rows["title"], strict=True)}
    chosen = [i for i in ids if i in by_id]
    failed, retry_why = _permitted(ctx, [i for i in chosen if by_id[i][0] == "failed"], Action.RETRY_REEL)
    queued, cancel_why = _permitted(ctx, [i for i in chosen if by_id[i][0] == "queued"], Action.CANCEL_REEL)
    c1, c2, c3, c4, c5 = st.columns([2, 1.3, 1.3, 1.3, 1.3], vertical_alignment="center")
    with c1:
        if chosen:
            names = ", ".join(f"“{plain(by_id[i][1])}”" for i in chosen[:3])
            more = f" and {len(chosen) - 3} more" if len(chosen) > 3 else ""
            st.caption(f"Selected: {names}{more}")
            done = [i for i in chosen if by_id[i][0] == "completed"]
            if len(done) == 1:
                page_link("pages/5_Videos.py", "Watch it on Videos", icon=":material/play_circle:",
                          query_params={"vid_reel": str(done[0])})
        else:
            st.caption("Select rows (left edge of the table) to retry or cancel them.")
    c2.button(f"Retry {len(failed) or ''} failed".replace("  ", " "), key="s_retry", icon=":material/replay:",
              disabled=not failed, on_click=_on_retry, args=(runtime, ctx.actor, failed),
              help=plain(retry_why) or "Queue the selected failed reels again as a new attempt",
              width="stretch")
    c3.button(f"Cancel {len(queued) or ''} queued".replace("  ", " "), key="s_cancel", icon=":material/block:",
              disabled=not queued, on_click=_on_cancel, args=(runtime, ctx.actor, queued),
              help=plain(cancel_why) or "Only reels still waiting in our queue can be cancelled",
              width="stretch")
    c4.button("Refresh now", key="s_refresh", icon=":material/refresh:", on_click=_on_refresh, args=(runtime,), width="stretch")
    c5.download_button("Export CSV", data=_csv_maker(runtime, f), file_name=_csv_name(f), mime="text/csv",
                       key="s_csv", icon=":material/download:", width="stretch", on_click="ignore",
                       help="The reels matching the filters, as a spreadsheet")


def _permitted(ctx: FrameContext, ids: list[int], action: Action) -> tuple[list[int], str]:
    """The ``ids`` the acting person may ``action``, and why not for the first refused one ("" if none)."""
    if not ids:
        return [], ""
    with ctx.runtime.session_factory() as session:
        reels = {r.id: r for r in session.scalars(select(Reel).where(Reel.id.in_(ids)))}
    allowed, why = [], ""
    for reel_id in ids:
        reason = reel_denial(ctx.actor, action, reels.get(reel_id))
        if reason is None:
            allowed.append(reel_id)
        elif not why:
            why = reason
    return allowed, why


def _csv_name(f: BoardFilter) -> str:
    parts = ["reels", *f.statuses]
    if f.owner:
        parts.append(f.owner.replace(" ", "_"))
    return "-".join(parts) + f"-{utcnow():%Y%m%d-%H%M}.csv"


# --------------------------------------------------------------------------- board fragment


def _counters(frame: pd.DataFrame) -> None:
    counts = frame["status"].value_counts()
    stuck = int(frame["stuck"].sum())
    cols = st.columns(len(COUNTERS) + 1)
    for col, (label, statuses, help_text) in zip(cols, COUNTERS, strict=False):
        col.metric(label, int(sum(counts.get(s, 0) for s in statuses)), help=help_text, border=True)
    cols[-1].metric("Stuck", stuck, border=True,
                    help="Rendering far longer than our render-time history predicts")


def _empty_message(f: BoardFilter) -> None:
    if f == BoardFilter(tz=f.tz):
        st.info("No reels yet. Write one on the **Compose** page and launch it; it shows up here at once.",
                icon=":material/movie_edit:")
        page_link("pages/3_Compose.py", "Compose a reel", icon=":material/movie_edit:")
    else:
        st.info("No reel matches these filters. Clear a filter to see more.", icon=":material/filter_alt_off:")


@st.fragment(run_every=REFRESH_SECONDS, key="status_board")
def status_board(ctx: FrameContext, f: BoardFilter) -> None:
    """Counters, stuck warning, the table and the row actions; reruns every :data:`REFRESH_SECONDS`."""
    runtime = ctx.runtime
    settings = runtime.settings
    frame, samples = board_data(runtime, settings.db_url, f.statuses, f.owner, f.start, f.end, f.query, f.tz,
                                settings.stuck_after_minutes, f.batch_id)
    _counters(frame)
    stuck = frame["title"][frame["stuck"].to_numpy()]
    if len(stuck):
        titles = ", ".join(f"“{t}”" for t in stuck.head(3))
        st.warning(f"{len(stuck)} reel{'s' * (len(stuck) != 1)} look{'s' * (len(stuck) == 1)} stuck at HeyGen "
                   f"({titles}). The worker keeps polling; if nothing changes, contact HeyGen support "
                   "with the video_id from the CSV export.", icon=":material/hourglass_disabled:")
    if frame.empty:
        _empty_message(f)
        st.session_state["s_shown_ids"] = []
        charts(ctx, _board_version(frame))
        return
    shown, order = _with_queue(_displayed(frame), queue_places(runtime, settings.db_url))
    event = st.dataframe(shown, column_config=column_config(f.tz), column_order=order, hide_index=True,
                         key=TABLE_KEY, on_select="rerun", selection_mode="multi-row", placeholder="—",
                         height=min(38 + 35 * len(frame), 560))
    ids = selected_ids(frame, list(event.selection.rows))
    _actions(ctx, frame, ids, f)
    _waiting_for_slots(frame, settings.heygen_concurrency)
    model = "no finished render yet (HeyGen's typical 5–15 min per minute of video)" \
        if samples < timing.MIN_SAMPLES else f"{samples} finished render{'s' * (samples != 1)}"
    st.caption(f"{len(frame):,} reel{'s' * (len(frame) != 1)} · updated {utcnow():%H:%M:%S} UTC · refreshes every "
               f"{REFRESH_SECONDS} s from the database · progress and time left from {model}")
    charts(ctx, _board_version(frame))


def _board_version(frame: pd.DataFrame) -> tuple:
    """What changes when a reel changes status: the charts re-read their history when it does."""
    counts = frame["status"].value_counts().sort_index()
    return (tuple(counts.index), tuple(int(n) for n in counts), str(frame["updated"].max()))


def _waiting_for_slots(frame: pd.DataFrame, concurrency: int) -> None:
    """Say so when queued reels wait for a HeyGen slot (all busy), not just for the worker's next cycle."""
    status = frame["status"]
    rendering = int(status.isin(["submitting", "pending", "processing"]).sum())
    if status.eq("queued").any() and rendering >= concurrency:
        st.caption(f":material/hourglass_top: All {concurrency} HeyGen slots are busy ({rendering} rendering): "
                   "queued reels go out as soon as one frees up.")


# --------------------------------------------------------------------------- charts


def charts(ctx: FrameContext, board_version: tuple = ()) -> None:
    """Reels reaching each status over time, and render time against video length (inside the board's
    fragment, so they follow its refreshes)."""
    timeline, renders = history_data(ctx.runtime, ctx.runtime.settings.db_url, board_version)
    st.subheader("History", anchor=False)
    left, right = st.columns(2)
    with left:
        st.markdown("**Launches and results** (last 14 days, UTC)")
        timeline = timeline[timeline["status"].isin(list(TIMELINE_EVENTS))].assign(
            event=lambda t: t["status"].map(TIMELINE_EVENTS))
        if timeline.empty:
            st.caption("Nothing has been launched yet.")
        else:
            statuses = [s for s in TIMELINE_EVENTS if s in set(timeline["status"])]
            events = [TIMELINE_EVENTS[s] for s in statuses]
            # Side by side, not stacked: one reel launched and completed reads 1 and 1, never 2.
            # A band (ordinal) x axis: Vega-Lite ignores xOffset on a time axis and would stack the bars.
            hourly = bool((timeline["bucket"] != timeline["bucket"].dt.floor("D")).any())
            timeline = timeline.assign(when=timeline["bucket"].dt.strftime("%d %b %H:00" if hourly else "%d %b"))
            order = list(dict.fromkeys(timeline.sort_values("bucket")["when"]))
            chart = alt.Chart(timeline).mark_bar().encode(
                x=alt.X("when:O", title=None, sort=order, axis=alt.Axis(labelAngle=0)),
                xOffset=alt.XOffset("event:N", sort=events),
                y=alt.Y("reels:Q", title="Reels", stack=None, axis=alt.Axis(tickMinStep=1, format="d")),
                color=alt.Color("event:N", title=None, sort=events,
                                scale=alt.Scale(domain=events, range=[STATUS_COLORS[s] for s in statuses])),
                tooltip=[alt.Tooltip("bucket:T", title="From"), alt.Tooltip("event:N", title="Event"),
                         alt.Tooltip("reels:Q", title="Reels", format="d")],
            ).properties(height=260)
            st.altair_chart(chart, width="stretch")
    with right:
        st.markdown("**Render time** (submission to finished video)")
        if renders.empty:
            st.caption("No finished renders yet; progress uses HeyGen's typical 5–15 minutes per minute of video.")
        else:
            unit = "min" if renders["render_min"].max() >= 2 else "s"  # fast renders read better in seconds
            renders = renders.assign(render=renders["render_min"] * (1 if unit == "min" else 60))
            chart = alt.Chart(renders).mark_circle(size=70, color=STATUS_COLORS["completed"]).encode(
                x=alt.X("video_s:Q", title="Video length (s)"),
                y=alt.Y("render:Q", title=f"Render time ({unit})"),
                tooltip=[alt.Tooltip("reel_id:Q", title="Reel"), alt.Tooltip("video_s:Q", title="Length (s)",
                                                                             format=".0f"),
                         alt.Tooltip("render:Q", title=f"Render ({unit})", format=".1f"),
                         alt.Tooltip("finished_at:T", title="Finished")],
            ).properties(height=260)
            st.altair_chart(chart, width="stretch")


def render(ctx: FrameContext) -> None:
    """The whole Status page."""
    st.title("Status", anchor=False)
    st.caption("Every reel and where it is. This page reads Reel Studio's database only; the worker talks to "
               "HeyGen, so any number of open tabs costs HeyGen nothing.")
    approval_queue(ctx.runtime, ctx.actor)
    f = filters(ctx)
    status_board(ctx, f)
