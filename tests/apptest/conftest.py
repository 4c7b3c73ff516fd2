"""AppTest fixtures: pages run through `app.py` against a real in-process sandbox.

One runtime (fresh data folder, SQLite database, sandbox on a free loopback port,
embedded worker with a short poll interval) serves a whole test module; Streamlit's
caches are cleared before every test because they are shared across AppTest instances.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.runtime import Runtime, get_runtime, reset_runtime

ROOT = Path(__file__).resolve().parents[2]
#: A complete ``[auth]`` section; AppTest never contacts its provider (people are given as ``at.user``).
FAKE_AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "apptest-cookie-secret-0123456789",
    "client_id": "reel-studio",
    "client_secret": "apptest",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ENV = {
    "DEFAULT_ROLE": "producer",
    "ADMIN_EMAILS": "admin@example.com",
    "SANDBOX_PORT": "0",
    "SANDBOX_TIME_SCALE": "0.01",
    "POLL_INTERVAL_SECONDS": "0.2",
    "WORKER_MODE": "embedded",
}


@pytest.fixture(scope="module")
def app_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A process runtime on a fresh data folder, shared by the tests of one module."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(tmp_path_factory.mktemp("app-data")))
    for name, value in ENV.items():
        mp.setenv(name, value)
    for name in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL", "HEYGEN_BASE_URL"):
        mp.delenv(name, raising=False)
    reset_runtime()
    runtime = get_runtime()
    yield runtime
    reset_runtime()
    mp.undo()


@pytest.fixture
def open_page(app_runtime: Runtime) -> Callable[..., AppTest]:
    """``open_page("pages/1_Voices.py", user="Ana", query={"v_lang": ["Spanish"]}, state={...})``.

    Runs ``app.py`` first (as a browser would), then switches to the page, so the frame and
    the multipage wiring are exercised exactly as in production. Sign-in is configured
    (:data:`FAKE_AUTH`) and ``user`` is signed in as ``<user>@example.com`` (producer; "Admin" is an
    admin); ``user=None`` has not signed in. ``local=True`` runs without ``[auth]``: the local user.
    """
    st.cache_data.clear()

    def _open(page: str = "app.py", *, user: str | None = "Ana", query: dict | None = None,
              state: dict | None = None, timeout: float = 30, local: bool = False, email: str | None = None,
              secrets: dict | None = None) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
        if not local:
            at.secrets = secrets if secrets is not None else {"auth": dict(FAKE_AUTH)}
            if user is not None:
                claims = {"is_logged_in": True, "name": user,
                          "email": f"{user.lower()}@example.com" if email is None else email}
                at.user = {k: v for k, v in claims.items() if v != ""}  # email="": an ID token without one
        for key, value in (state or {}).items():
            at.session_state[key] = value
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page != "app.py":
            at.switch_page(page)
            at.run()
        return at

    return _open
