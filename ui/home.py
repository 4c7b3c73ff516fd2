"""The home page: what needs attention first, new videos, counts, credit, catalog freshness, recent reels."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from core.access.permissions import ROLE_LABELS
from core.board import overview, timing
from core.board import rows as board_rows
from core.board.rows import BoardRow
from core.board.text import human_ago, human_duration
from core.models import utcnow
from core.reels.drafts import display_title
from core.runtime import Runtime
from ui.data import loaded_catalog
from ui.frame import FrameContext, account_summary
from ui.links import page_link, status_badge
from ui.text import plain
from ui.workspaces import budget_bar, decisions

#: session_state key: {person: aware UTC datetime} of the last "mark as seen".
LAST_SEEN_KEY = "home_last_seen"
COUNTS = [
    ("Drafts", ("draft",)),
    ("Queued", ("queued", "submitting")),
    ("Rendering", ("pending", "processing")),
    ("Completed", ("completed",)),
    ("Failed", ("failed",)),
    ("Cancelled", ("cancelled",)),
]


@st.cache_data(ttl=2, max_entries=64, show_spinner=False)
def home_data(_runtime: Runtime, db_url: str, user: str, since: datetime | None) -> dict:
    """Everything the page shows from the database, shared by tabs for 2 s."""
    owner = user or None
    with _runtime.session_factory() as session:
        model = timing.render_time_model(session)
        return {
            "counts": board_rows.status_counts(session),
            "attention": overview.attention(session, owner=owner, model=model,
                                            stuck_after_minutes=_runtime.settings.stuck_after_minutes),
            "finished": overview.finished_since(session, since, owner=owner) if since else [],
            "recent": overview.recent_reels(session, owner=owner, limit=6),
        }


def last_seen(runtime: Runtime, user: str) -> datetime | None:
    """When ``user`` last marked new videos as seen in this browser tab, else their last recorded activity."""
    if not user:
        return None
    seen = st.session_state.setdefault(LAST_SEEN_KEY, {})
    if user not in seen:
        with runtime.session_factory() as session:
            seen[user] = overview.default_last_seen(session, user)
    return seen[user]


def _mark_seen(user: str) -> None:
    st.session_state.setdefault(LAST_SEEN_KEY, {})[user] = utcnow()


def _welcome(ctx: FrameContext) -> None:
    st.subheader("Welcome — make your first reel in four steps", anchor=False)
    steps = [
        ("1", "You are signed in", f"Your reels are recorded as {plain(ctx.user)}'s; you are "
                                   f"{ROLE_LABELS[ctx.actor.role].lower()} (see the sidebar)."),
        ("2", "Pick a voice", "Filter HeyGen's voices by language, accent and gender, and listen to previews."),
        ("3", "Pick an avatar look", "Browse the avatar gallery and choose a presenter for each scene."),
        ("4", "Compose and launch", "Write the scene scripts, check the estimated cost, then launch. The Status "
                                    "page follows the render and Videos plays the result."),
    ]
    links = [None, ("pages/1_Voices.py", "Voices", ":material/record_voice_over:"),
             ("pages/2_Avatars.py", "Avatars", ":material/face:"),
             ("pages/3_Compose.py", "Compose", ":material/movie_edit:")]
    cols = st.columns(4)
    for col, (number, title, text), link in zip(cols, steps, links, strict=True):
        with col.container(border=True, height="stretch"):
            st.markdown(f"**{number}. {title}**")
            st.caption(text)
            if link:
                page_link(link[0], f"Open {link[1]}", icon=link[2])
    if ctx.settings.sandbox:
        st.info("You are in **sandbox mode**: reels render locally against HeyGen's real catalog and cost "
                "nothing. Set HEYGEN_API_KEY to make real videos (see Settings).", icon=":material/science:")


def _counts(counts: dict[str, int]) -> None:
    cols = st.columns(len(COUNTS))
    for col, (label, statuses) in zip(cols, COUNTS, strict=True):
        col.metric(label, f"{sum(counts.get(s, 0) for s in statuses):,}", border=True)


def _attention(data: dict, user: str) -> None:
    att: overview.Attention = data["attention"]
    whose = "your" if user else "the team's"
    st.subheader("Needs attention", anchor=False)
    if att.empty:
        st.success(f"Nothing needs attention: none of {whose} reels failed or is stuck.", icon=":material/check:")
        return
    now = utcnow()
    for row in att.failed:
        with st.container(border=True):
            st.markdown(f"{status_badge('failed')} **{plain(display_title(row.title, row.id))}** · {human_ago(row.updated_at, now)}")
            st.caption(plain(row.failure_message) or "HeyGen gave no reason.")
    for row in att.stuck:
        with st.container(border=True):
            started = row.processing_at or row.submitted_at
            st.markdown(f":red-badge[Stuck] **{plain(display_title(row.title, row.id))}** looks stuck — rendering for "
                        f"{human_duration((now - started).total_seconds()) if started else 'a long time'}")
            st.caption(f"video_id {row.video_id}. The worker keeps polling HeyGen.")
    c1, c2 = st.columns(2)
    with c1:
        if att.failed:
            page_link("pages/4_Status.py", "Retry failed reels on Status", icon=":material/replay:",
                      query_params={"s_status": "failed"})
    with c2:
        if att.stuck:
            page_link("pages/4_Status.py", "See rendering reels", icon=":material/monitoring:",
                      query_params={"s_status": ["pending", "processing"]})


def _finished(data: dict, user: str, since: datetime | None) -> None:
    rows: list[BoardRow] = data["finished"]
    st.subheader("New videos since you last looked", anchor=False)
    if not user:
        st.caption("Enter your name in the sidebar to see which of your videos finished since your last visit.")
        return
    if not rows:
        st.caption(f"Nothing has finished since you last looked ({human_ago(since)}). Finished videos appear here "
                   "and on the Videos page.")
        return
    for row in rows:
        with st.container(border=True):
            c1, c2 = st.columns([5, 2], vertical_alignment="center")
            c1.markdown(f"{status_badge('completed')} **{plain(display_title(row.title, row.id))}** · "
                        f"{human_duration(row.duration_s)} · finished {human_ago(row.completed_at)}")
            with c2:
                page_link("pages/5_Videos.py", "Watch", icon=":material/play_circle:",
                          query_params={"vid_reel": str(row.id)})
    st.button("Mark as seen", key="home_mark_seen", icon=":material/done_all:", on_click=_mark_seen, args=(user,))


def _recent(data: dict, user: str) -> None:
    rows: list[BoardRow] = data["recent"]
    now = utcnow()
    st.subheader("Your recent reels" if user else "Recent reels", anchor=False)
    if not rows:
        st.caption("No reels yet.")
        page_link("pages/3_Compose.py", "Compose your first reel", icon=":material/movie_edit:")
        return
    for row in rows:
        with st.container(border=True):
            c1, c2 = st.columns([5, 2], vertical_alignment="center")
            # A finished reel's time is when it finished, as in "New videos" above (later link refreshes
            # also touch updated_at).
            when = row.completed_at if row.status == "completed" and row.completed_at else row.updated_at
            c1.markdown(f"**{plain(display_title(row.title, row.id))}** · {status_badge(row.status)} · "
                        f"{human_ago(when, now)}")
            with c2:
                if row.status == "completed":
                    page_link("pages/5_Videos.py", "Watch", icon=":material/play_circle:",
                              query_params={"vid_reel": str(row.id)})
                elif row.status == "draft":
                    page_link("pages/3_Compose.py", "Edit in Compose", icon=":material/edit:",
                              query_params={"c_reel": str(row.id)})
                else:
                    page_link("pages/4_Status.py", "Retry on Status" if row.status == "failed" else "Follow on Status",
                              icon=":material/monitoring:",
                              query_params={"s_q": row.title} if row.title else None)
    page_link("pages/4_Status.py", "All reels on the Status board", icon=":material/arrow_forward:")


def _account(ctx: FrameContext) -> None:
    runtime = ctx.runtime
    balance, account = account_summary(runtime, ctx.settings.mode)
    with st.container(border=True):
        st.markdown("**HeyGen account**")
        st.metric("Credit" + (" (sandbox)" if ctx.settings.sandbox else ""), balance,
                  help=f"Account: {account}" if account else None)
        st.caption("Sandbox credit is pretend money; renders here never reach HeyGen." if ctx.settings.sandbox
                   else "Live mode: each finished render is billed by HeyGen.")
    with st.container(border=True):
        st.markdown("**Catalog**")
        view = loaded_catalog(runtime)
        if view is not None:
            cat = view.catalog
            source = "from the cache" if cat.from_cache else "fresh from HeyGen"
            st.caption(f"{len(cat.voices):,} voices and {len(cat.looks):,} avatar looks, fetched "
                       f"{human_ago(cat.fetched_at)} ({source}).")
        else:
            fetched = runtime.client.catalog_fetched_at("voices")
            st.caption(f"Voices last fetched {human_ago(fetched)}; the catalog loads when you open Voices, "
                       "Avatars or Compose." if fetched else
                       "Not fetched yet: it loads (with a progress bar) when you open Voices, Avatars or Compose.")
        page_link("pages/6_Settings.py", "Refresh the catalog in Settings", icon=":material/sync:")


def render(ctx: FrameContext) -> None:
    """The whole home page."""
    runtime = ctx.runtime
    user = ctx.user
    st.title("Reel Studio", anchor=False)
    st.caption(f"Welcome back, {plain(user)}." if user else
               "Avatar videos with HeyGen: pick voices and avatars, compose reels, follow their renders.")
    since = last_seen(runtime, user)
    data = home_data(runtime, runtime.settings.db_url, user, since)
    total = sum(data["counts"].values())
    if total == 0:
        _welcome(ctx)
        with st.columns([1, 2])[0]:
            _account(ctx)
        return
    _counts(data["counts"])
    left, right = st.columns([2, 1], gap="large")
    with left:
        _attention(data, user)
        _finished(data, user, since)
        _recent(data, user)
    with right:
        budget_bar(runtime.session_factory)
        decisions(runtime, ctx.actor)
        _account(ctx)
