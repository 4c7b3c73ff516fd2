"""Settings → People: who uses Reel Studio, their roles, and linking owner names from before sign-in.

Admins change roles and link an imported owner name (reels made before sign-in) to the person who
signed in; everyone else sees why they cannot. Names are shown as plain text.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access.actor import ROLES
from core.access.permissions import ROLE_LABELS, Action, PermissionDenied, denial
from core.access.users import UserError, imported_users, link_user, list_users, set_role
from core.db import session_scope
from ui.frame import FrameContext
from ui.text import plain

_NOTICE = "set_people_notice"
ORIGIN_LABELS = {"sign-in": "Signed in", "local": "Local user", "imported": "Not signed in yet (from earlier reels)"}


def _do(ctx: FrameContext, what: str) -> None:
    """on_click: change a role or link a name (as the selectboxes show now); the outcome is shown once."""
    ss = st.session_state
    try:
        with session_scope(ctx.runtime.session_factory) as session:
            if what == "role":
                user = set_role(session, ss["set_people_user"], ss["set_people_role"], actor=ctx.actor)
                text = f"{user.display_name} is now {ROLE_LABELS[user.role].lower()}."
            else:
                user = link_user(session, ss["set_people_imported"], ss["set_people_link_to"], actor=ctx.actor)
                text = f"The earlier reels now belong to {user.display_name}."
        st.session_state[_NOTICE] = ("success", text)
    except (UserError, PermissionDenied) as exc:
        st.session_state[_NOTICE] = ("error", str(exc))


def people_section(ctx: FrameContext) -> None:
    """The People section of Settings (roles for admins; the reason for everyone else)."""
    st.subheader("People", anchor=False)
    why_not = denial(ctx.actor, Action.MANAGE_USERS)
    if why_not:
        st.caption(f"You are {plain(ctx.actor.name)} ({ROLE_LABELS[ctx.actor.role].lower()}). {why_not}")
        return
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(plain(notice[1]))
    with ctx.runtime.session_factory() as session:
        users = list_users(session)
        imported = imported_users(session)
    st.dataframe(pd.DataFrame([{
        "Name": u.display_name, "Email": u.email or "", "Role": ROLE_LABELS.get(u.role, u.role),
        "How": ORIGIN_LABELS.get(u.origin, u.origin), "Last seen": u.last_seen_at,
    } for u in users]), hide_index=True, width="stretch", key="set_people_table",
        column_config={"Last seen": st.column_config.DatetimeColumn(format="distance")})
    people = {u.id: f"{u.display_name} · {u.email}" if u.email else u.display_name
              for u in users if u.origin != "imported"}
    c1, c2, c3 = st.columns([3, 1.5, 1], vertical_alignment="bottom")
    chosen = c1.selectbox("Person", list(people), format_func=people.get, key="set_people_user")
    c2.selectbox("Role", ROLES, format_func=ROLE_LABELS.get, key="set_people_role")
    c3.button("Set role", key="set_people_set_role", icon=":material/badge:", width="stretch",
              disabled=chosen is None, on_click=_do, args=(ctx, "role"))
    if imported:
        st.caption("Reels made before sign-in keep their owner's name. When that person has signed in, give "
                   "them those reels:")
        names = {u.id: u.display_name for u in imported}
        c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
        old = c1.selectbox("Earlier owner name", list(names), format_func=names.get, key="set_people_imported")
        person = c2.selectbox("Is the person", list(people), format_func=people.get, key="set_people_link_to")
        c3.button("Link", key="set_people_link", icon=":material/link:", width="stretch",
                  disabled=old is None or person is None, on_click=_do, args=(ctx, "link"))
