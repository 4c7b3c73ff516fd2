"""The shared frame every page starts with: page config, runtime, sidebar, identity.

Usage, as the first statement of every page::

    from ui.frame import frame
    ctx = frame("Voices", icon=":material/record_voice_over:")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.access.actor import MAX_NAME_CHARS, ActorError, clean_name
from core.config import Settings
from core.heygen.errors import HeyGenError
from core.runtime import Runtime, StartupError, get_runtime, runtime_started

PAGES = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Voices.py", "Voices", ":material/record_voice_over:"),
    ("pages/2_Avatars.py", "Avatars", ":material/face:"),
    ("pages/3_Compose.py", "Compose", ":material/movie_edit:"),
    ("pages/7_Batches.py", "Batches", ":material/table_view:"),
    ("pages/4_Status.py", "Status", ":material/monitoring:"),
    ("pages/5_Videos.py", "Videos", ":material/video_library:"),
    ("pages/6_Settings.py", "Settings", ":material/settings:"),
]


ICONS_DIR = Path(__file__).parent / "icons"


def favicon(icon: str) -> str:
    """The local PNG (drawn by ``tools/favicons.py``) for a ``:material/NAME:`` icon, else ``icon`` itself.

    Streamlit fetches a material page icon from fonts.gstatic.com, which fails offline; a file path is served
    by the app itself.
    """
    name = icon.removeprefix(":material/").removesuffix(":")
    path = ICONS_DIR / f"{name}.png"
    return str(path) if icon.startswith(":material/") and path.is_file() else icon


@dataclass(frozen=True)
class FrameContext:
    """What a page gets from the frame: settings, process runtime and the current user's name."""

    settings: Settings
    runtime: Runtime
    user: str


def _runtime() -> Runtime:
    if runtime_started():
        return get_runtime()
    with st.spinner("Starting Reel Studio: database, HeyGen connection and worker…"):
        return get_runtime()


#: Seconds the account summary is shared by every session of the process.
ACCOUNT_TTL_S = 30.0


@st.cache_data(ttl=ACCOUNT_TTL_S, max_entries=8, show_spinner=False)
def _account_summary(_runtime: Runtime, base_url: str, mode: str) -> tuple[str, str | None]:
    try:
        me = _runtime.client.get_current_user()
    except HeyGenError as exc:
        return ("unavailable", str(exc))
    return (me.balance_text, " ".join(p for p in (me.first_name, me.last_name) if p) or me.username)


def account_summary(runtime: Runtime, mode: str) -> tuple[str, str | None]:
    """``(balance text, account name)`` from ``GET /v3/users/me``, shared by all sessions for 30 seconds.

    After spending (a listen or a launch), :func:`forget_account_summary` makes the next call ask HeyGen.
    """
    return _account_summary(runtime, runtime.base_url, mode)


def forget_account_summary() -> None:
    """The next :func:`account_summary` asks HeyGen again."""
    _account_summary.clear()


def current_user() -> str:
    """The person using the app: ``st.user`` with OIDC login, else the name given in the sidebar."""
    try:
        if st.user.is_logged_in:
            return str(st.user.get("email") or st.user.get("name") or "signed-in user")
    except Exception:  # no [auth] configured: st.user has no login state
        pass
    return (st.session_state.get("me") or "").strip()


def _menu() -> None:
    """The page menu (Streamlit's own would label the home page "app")."""
    st.markdown("**Reel Studio**")
    for path, label, icon in PAGES:
        st.page_link(path, label=label, icon=icon)
    st.divider()


def _sidebar(settings: Settings, runtime: Runtime) -> None:
    with st.sidebar:
        _menu()
        if settings.sandbox:
            st.badge("SANDBOX", icon=":material/science:", color="orange",
                     help="No HeyGen key is set: a built-in local HeyGen serves the real catalog "
                          "and renders placeholder videos. Nothing is billed.")
            st.caption("Local HeyGen sandbox: videos are placeholders, nothing is billed.")
        else:
            st.badge("LIVE", icon=":material/bolt:", color="green",
                     help="Connected to api.heygen.com with your API key.")
            st.caption("Connected to HeyGen: every launch spends real credit.")
        if runtime.client.cache_warning:
            st.warning(runtime.client.cache_warning, icon=":material/warning:")
        balance, account = account_summary(runtime, settings.mode)
        st.metric("HeyGen balance", balance, help=f"Account: {account}" if account else None)
        st.text_input(
            "Your name",
            key="me",
            placeholder="Who is making reels?",
            help="Recorded as the owner of the reels you create and in their history.",
            max_chars=MAX_NAME_CHARS,
            bind="query-params",
        )


def frame(title: str, *, icon: str) -> FrameContext:
    """Set up a page: config, runtime (database, sandbox, worker), sidebar, identity.

    Stops the page with a clear message when the app cannot start (unwritable data
    folder, unreachable database).
    """
    st.set_page_config(page_title=f"{title} · Reel Studio", page_icon=favicon(icon), layout="wide")
    try:
        runtime = _runtime()
    except StartupError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    settings = runtime.settings
    _sidebar(settings, runtime)
    return FrameContext(settings=settings, runtime=runtime, user=current_user())


def require_user(ctx: FrameContext) -> str:
    """The user's name, or stop the page with a prompt to enter it in the sidebar."""
    if not ctx.user:
        st.info("Enter your name in the sidebar first: reels and their history record who made them.",
                icon=":material/badge:")
        st.stop()
    try:
        return clean_name(ctx.user)
    except ActorError as exc:  # e.g. a 100,000-character ?me= link: say so instead of storing it
        st.error(str(exc), icon=":material/badge:")
        st.stop()
