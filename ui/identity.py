"""Who is using this tab: the local user, or a person signed in with OpenID Connect (``st.login``).

:func:`gate_before_runtime` runs first on every page: it stops the page when ``[auth]`` is
incomplete (naming the key) or when the server listens on the network without sign-in.
:func:`resolve_actor` then returns the :class:`~core.access.actor.Actor` of this page run, or draws
the sign-in screen (or the refusal) and stops the page, so deep links are gated too. Nothing
about identity is ever read from or written to the URL.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.access.actor import Actor
from core.access.permissions import ROLE_LABELS
from core.access.signin import (
    auth_config_problem,
    exposed_without_sign_in_message,
    is_loopback,
    provider_problem,
)
from core.access.users import SignInRefused, actor_for, local_user, policy_from_settings, sign_in
from core.config import Settings
from core.db import session_scope
from ui.text import plain

#: Seconds a provider reachability check is reused by every session.
PROVIDER_CHECK_TTL_S = 30


@dataclass(frozen=True)
class Access:
    """How this server knows people: ``mode`` is ``"local"``, ``"open-network"`` or ``"sign-in"``."""

    mode: str
    auth: Mapping[str, Any] | None
    address: str


def auth_section() -> Mapping[str, Any] | None:
    """Streamlit's ``[auth]`` secrets section (the file Streamlit itself reads), or ``None``."""
    try:
        if not st.secrets.load_if_toml_exists() or "auth" not in st.secrets:
            return None
        section = st.secrets["auth"]
    except Exception:  # no secrets file at all: Streamlit raises on any access
        return None
    return section.to_dict() if hasattr(section, "to_dict") else dict(section)


def os_account_name() -> str:
    """The OS account running the server: the local user's name."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return os.environ.get("USER") or os.environ.get("USERNAME") or "local user"


def gate_before_runtime(settings: Settings) -> Access:
    """Decide how people are known; stop the page with one sentence when the server must not open."""
    auth = auth_section()
    address = str(st.get_option("server.address") or "")
    problem = auth_config_problem(auth)
    if problem:
        st.error(problem, icon=":material/key_off:")
        st.stop()
    if auth is not None:
        return Access("sign-in", auth, address)
    if is_loopback(address):
        return Access("local", None, address)
    if settings.allow_unauthenticated_network:
        return Access("open-network", None, address)
    st.error(exposed_without_sign_in_message(), icon=":material/gpp_bad:")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


@st.cache_data(ttl=PROVIDER_CHECK_TTL_S, max_entries=8, show_spinner=False)
def _provider_problem(metadata_url: str) -> str | None:
    return provider_problem(metadata_url)


def _metadata_url(auth: Mapping[str, Any]) -> str:
    if auth.get("server_metadata_url"):
        return str(auth["server_metadata_url"])
    for value in auth.values():
        if isinstance(value, Mapping) and value.get("server_metadata_url"):
            return str(value["server_metadata_url"])
    return ""


def _logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:  # st.user without [auth]
        return False


def _claims() -> dict[str, Any]:
    try:
        return dict(st.user.to_dict())
    except Exception:
        return {key: st.user.get(key) for key in ("email", "name", "preferred_username")}


def sign_in_screen(auth: Mapping[str, Any]) -> None:
    """The only thing a visitor who has not signed in sees, whatever page they asked for."""
    problem = _provider_problem(_metadata_url(auth))
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.title("Reel Studio", anchor=False)
        st.markdown("Sign in with your work account to make and follow your team's avatar videos.")
        if problem:
            st.error(problem, icon=":material/cloud_off:")
            st.button("Try again", icon=":material/refresh:", key="signin_retry",
                      on_click=_provider_problem.clear)
        st.button("Sign in", type="primary", icon=":material/login:", key="signin", width="stretch",
                  disabled=bool(problem), on_click=st.login,
                  help="You go to your organisation's sign-in page and come back here.")
        st.caption("Nothing about who you are is put in links: a link you share opens the page, "
                   "not your account.")


def refused_screen(reason: str) -> None:
    """A signed-in person who may not use Reel Studio: the reason, and a way out."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle, st.container(border=True):
        st.title("Reel Studio", anchor=False)
        st.error(plain(reason), icon=":material/block:")
        st.button("Log out", icon=":material/logout:", key="signin_refused_logout", on_click=st.logout,
                  help="Sign in again with another account.")


def resolve_actor(access: Access, settings: Settings, session_factory: Any) -> Actor:
    """The actor of this page run; draws the sign-in screen or the refusal and stops otherwise."""
    if access.mode != "sign-in":
        with session_scope(session_factory) as session:
            return actor_for(local_user(session, os_account_name()), verified=access.mode == "local")
    if not _logged_in():
        sign_in_screen(access.auth or {})
        st.stop()
    try:
        with session_scope(session_factory) as session:
            return actor_for(sign_in(session, _claims(), policy_from_settings(settings)))
    except SignInRefused as exc:
        refused_screen(str(exc))
        st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def identity_sidebar(access: Access, actor: Actor) -> None:
    """Who is acting, with what role, and (signed in) the Log out control."""
    role = ROLE_LABELS.get(actor.role, actor.role)
    with st.container(key="identity"):
        if access.mode == "sign-in":
            st.markdown(f":material/account_circle: **{plain(actor.name)}** · {role}")
            if actor.email:
                st.caption(plain(actor.email))
            st.button("Log out", icon=":material/logout:", key="logout", on_click=st.logout)
        elif access.mode == "local":
            st.markdown(f":material/computer: **{plain(actor.name)}** · {role}")
            st.caption("Local user: only this machine can reach Reel Studio (bound to localhost).")
        else:
            st.markdown(f":material/computer: **{plain(actor.name)}** · {role}")
            st.warning(f"Sign-in is off: anyone who reaches this server on the network acts as "
                       f"{plain(actor.name)} (admin).", icon=":material/lock_open:")
