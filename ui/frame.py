"""The shared frame every page starts with: page config, access gate, runtime, identity, sidebar.

Every page calls :func:`frame` first, so every page, deep links included, is gated: an incomplete
``[auth]``, a network-bound server without sign-in, or a visitor who has not signed in never sees
the page (see :mod:`ui.identity`). Identity never travels in the URL; an old ``?me=`` is dropped.

Usage, as the first statement of every page::

    from ui.frame import frame
    ctx = frame("Voices", icon=":material/record_voice_over:")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

from core.access.actor import Actor
from core.config import Settings
from core.heygen.errors import HeyGenError
from core.runtime import Runtime, StartupError, get_runtime, runtime_started
from ui.browser import keyboard_row_selection, page_style
from ui.identity import Access, gate_before_runtime, identity_sidebar, resolve_actor

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
    """What a page gets from the frame: settings, process runtime, who acts, and how people are known.

    ``actor`` is passed to every core function that changes data; ``user`` is its display name.
    """

    settings: Settings
    runtime: Runtime
    actor: Actor
    access: Access

    @property
    def user(self) -> str:
        """The acting person's display name."""
        return self.actor.name


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


def menu_href(title: str) -> str:
    """The sidebar link of the page titled ``title`` as the browser sees it: ``""`` for Home,
    ``"Voices"`` for ``pages/1_Voices.py``."""
    for path, label, _icon in PAGES:
        if label == title:
            return "" if path == "app.py" else path.removeprefix("pages/").removesuffix(".py").split("_", 1)[-1]
    return title


def _menu() -> None:
    """The page menu (Streamlit's own would label the home page "app")."""
    st.markdown("**Reel Studio**")
    for path, label, icon in PAGES:
        st.page_link(path, label=label, icon=icon)
    st.divider()


def _host(base_url: str) -> str:
    """The host (and port) of a base URL, e.g. ``api.heygen.com`` or ``heygen-proxy.internal:8443``."""
    return urlsplit(base_url).netloc or base_url


def _sidebar(settings: Settings, runtime: Runtime, access: Access, actor: Actor) -> None:
    from ui.workspaces import switcher

    with st.sidebar:
        _menu()
        identity_sidebar(access, actor)
        st.divider()
        mode = switcher(runtime, actor)
        if mode == "sandbox":
            st.badge("SANDBOX", icon=":material/science:", color="orange",
                     help="No HeyGen key is set: a built-in local HeyGen serves the real catalog and renders "
                          "placeholder videos. Its balance is play money: listens and launches spend it at "
                          "HeyGen's prices, so you see what they would cost, but no real money is charged.")
            st.caption("Local HeyGen sandbox: placeholder videos, and a play-money balance that listens and "
                       "launches spend at HeyGen's prices.")
        else:
            st.badge("LIVE", icon=":material/bolt:", color="green",
                     help=f"Connected to {_host(runtime.base_url)} with this workspace's API key.")
            st.caption("Connected to HeyGen: every launch spends real credit.")
        if runtime.client.cache_warning:
            st.warning(runtime.client.cache_warning, icon=":material/warning:")
        balance, account = account_summary(runtime, settings.mode)
        st.metric("HeyGen balance", balance, help=f"Account: {account}" if account else None)


def frame(title: str, *, icon: str) -> FrameContext:
    """Set up a page: config, runtime (database, sandbox, worker), sidebar, identity.

    Stops the page with a clear message when the app cannot start (unwritable data
    folder, unreachable database).
    """
    st.set_page_config(page_title=f"{title} · Reel Studio", page_icon=favicon(icon), layout="wide")
    if "me" in st.query_params:  # identity never comes from a URL (old links carried ?me=)
        del st.query_params["me"]
    try:
        runtime = _runtime()
    except StartupError as exc:
        st.error(str(exc), icon=":material/error:")
        st.stop()
    settings = runtime.settings
    access = gate_before_runtime(settings)
    actor = resolve_actor(access, settings, runtime.session_factory)
    _sidebar(settings, runtime, access, actor)
    with st.sidebar:  # fixed CSS and scripts, drawn last where their empty slots show least
        page_style(menu_href(title))
        keyboard_row_selection()
    return FrameContext(settings=settings, runtime=runtime, actor=actor, access=access)
