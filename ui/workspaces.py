"""Workspace UI: the sidebar switcher, budget bars, the Settings section and the Status approval queue.

The current workspace lives in ``st.session_state["workspace_id"]`` (default: the Default workspace).
Names, notes and scripts are shown as text, never as Markdown.
"""

from __future__ import annotations

from contextlib import closing

import streamlit as st

from core.access import workspaces as ws
from core.access.actor import Actor
from core.access.users import list_users
from core.heygen import HeyGenClient
from core.jobs import accounts, approvals, budget
from core.models import WORKSPACE_ROLES, Reel
from core.runtime import Runtime

KEY = "workspace_id"


def current_workspace_id() -> int:
    """The workspace chosen in the sidebar (1, the Default workspace, until one is chosen)."""
    return int(st.session_state.get(KEY) or 1)


def switcher(runtime: Runtime, actor: Actor | None) -> str:
    """The sidebar's workspace picker; returns the current workspace's mode (``sandbox`` or ``live``)."""
    with closing(runtime.session_factory()) as session:
        choices = ws.workspaces_for(session, actor) if actor else [ws.default_workspace(session)]
        session.commit()
        names = {w.id: w.name for w in choices}
        if current_workspace_id() not in names:
            st.session_state[KEY] = next(iter(names))
        if len(names) > 1:
            st.selectbox("Workspace", list(names), key=KEY, format_func=names.get,
                          help="Each team's own HeyGen account, budget and approvals.")
        current = next(w for w in choices if w.id == current_workspace_id())
        return ws.workspace_mode(current, runtime.settings.heygen_api_key)


def budget_bar(session_factory, workspace_id: int | None = None) -> None:
    """Spent / reserved / remaining this month with a progress bar (a caption without a budget)."""
    workspace_id = workspace_id or current_workspace_id()
    with closing(session_factory()) as session:
        view = budget.workspace_budget(session, workspace_id)
    if view.limit_usd is None:
        st.caption(view.text())
        return
    st.progress(view.fraction, text=f"Budget: {view.text()}")


def _check(runtime: Runtime, mode: str):
    url = runtime.base_url if mode == "sandbox" else runtime.settings.heygen_base_url
    return lambda key: HeyGenClient(key, base_url=url, max_retries=0, timeout_s=10).get_current_user()


def _key_form(runtime: Runtime, actor: Actor, workspace) -> None:
    st.markdown("**HeyGen API key**")
    hint = workspace.api_key_hint or ("HEYGEN_API_KEY" if workspace.is_default else "none: sandbox")
    st.text(f"Current key: {hint}")
    with st.form(f"key-{workspace.id}", clear_on_submit=True):
        raw = st.text_input("New key", type="password", help="Checked with HeyGen before it is saved.")
        mode = st.radio("HeyGen", ["live", "sandbox"], horizontal=True, index=0 if runtime.settings.heygen_api_key
                        else 1)
        if st.form_submit_button("Check and save key"):
            try:
                with closing(runtime.session_factory()) as session:
                    accounts.save_api_key(session, workspace.id, raw, actor=actor, box=runtime.box,
                                          check=_check(runtime, mode), mode=mode)
                st.success("Key checked with HeyGen and saved (encrypted).")
            except (ws.WorkspaceError, ws.WorkspaceDenied) as exc:
                st.error(str(exc))


def _budget_form(runtime: Runtime, actor: Actor, workspace) -> None:
    with st.form(f"budget-{workspace.id}"):
        c1, c2 = st.columns(2)
        budget_usd = c1.number_input("Monthly budget (USD)", min_value=0.0, value=workspace.monthly_budget_usd,
                                     step=10.0, help="Empty: no budget.")
        threshold = c2.number_input("Launches estimated above (USD) need approval", min_value=0.0,
                                    value=workspace.approval_threshold_usd, step=1.0, help="Empty: no approval.")
        if st.form_submit_button("Save budget"):
            try:
                with closing(runtime.session_factory()) as session:
                    ws.set_budget(session, workspace.id, monthly_budget_usd=budget_usd,
                                  approval_threshold_usd=threshold, actor=actor)
                st.success("Budget saved.")
            except (ws.WorkspaceError, ws.WorkspaceDenied) as exc:
                st.error(str(exc))


def _members(runtime: Runtime, actor: Actor, workspace) -> None:
    with closing(runtime.session_factory()) as session:
        people = ws.members(session, workspace.id)
    st.markdown("**Members**")
    if people:
        st.dataframe([{"name": m.name, "role": m.role, "monthly cap (USD)": m.monthly_cap_usd} for m in people],
                     hide_index=True)
    else:
        st.caption("No members yet" + (": everyone keeps their Reel Studio role here." if workspace.is_default
                                       else "."))
    with closing(runtime.session_factory()) as session:
        people = {u.id: f"{u.display_name} ({u.email})" if u.email else u.display_name
                  for u in list_users(session)}
    if not people:
        return
    with st.form(f"member-{workspace.id}", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        user_id = c1.selectbox("Person", list(people), format_func=people.get)
        role = c2.selectbox("Role", WORKSPACE_ROLES, index=1)
        cap = c3.number_input("Monthly cap (USD)", min_value=0.0, value=None, step=10.0, help="Empty: no cap.")
        add, remove = st.columns(2)
        name = people.get(user_id, "").split(" (")[0]
        if add.form_submit_button("Add or update member"):
            _member_action(lambda s: ws.add_member(s, workspace.id, int(user_id), name, role, actor=actor,
                                                   monthly_cap_usd=cap), runtime)
        if remove.form_submit_button("Remove member"):
            _member_action(lambda s: ws.remove_member(s, workspace.id, int(user_id), actor=actor), runtime)


def _member_action(action, runtime: Runtime) -> None:
    try:
        with closing(runtime.session_factory()) as session:
            action(session)
        st.success("Members updated.")
    except (ws.WorkspaceError, ws.WorkspaceDenied) as exc:
        st.error(str(exc))


def settings_section(runtime: Runtime, actor: Actor | None) -> None:
    """Settings → Workspace: key, budget, threshold, members and a new workspace (admins only)."""
    st.subheader("Workspace", anchor=False)
    if actor is None:
        st.info("Enter your name in the sidebar to manage workspaces.")
        return
    with closing(runtime.session_factory()) as session:
        workspace = ws.get_workspace(session, current_workspace_id())
        role = ws.workspace_role(session, actor, workspace)
    st.text(f"{workspace.name}: you are {role or 'not a member'}.")
    budget_bar(runtime.session_factory, workspace.id)
    if not ws.role_at_least(role, "admin"):
        st.caption("Only a workspace admin changes its key, budget and members.")
        return
    _key_form(runtime, actor, workspace)
    _budget_form(runtime, actor, workspace)
    _members(runtime, actor, workspace)
    with st.form("new-workspace", clear_on_submit=True):
        name = st.text_input("New workspace", max_chars=ws.MAX_NAME_CHARS)
        if st.form_submit_button("Create workspace"):
            try:
                with closing(runtime.session_factory()) as session:
                    made = ws.create_workspace(session, name, actor=actor)
                st.success(f"Workspace {made.name} created.")
            except (ws.WorkspaceError, ws.WorkspaceDenied) as exc:
                st.error(str(exc))


def _decide(runtime: Runtime, actor: Actor, request_id: int, verb: str) -> None:
    note = st.session_state.get(f"note-{request_id}", "")
    try:
        with closing(runtime.session_factory()) as session:
            decide = approvals.approve if verb == "approve" else approvals.reject
            result = decide(session, request_id, actor=actor, note=note)
        st.toast(result.message)
    except (ws.WorkspaceError, ws.WorkspaceDenied) as exc:
        st.toast(str(exc))


def approval_queue(runtime: Runtime, actor: Actor | None) -> None:
    """Status → "Waiting for approval": estimate, scenes, approve or reject with a note (approvers)."""
    with closing(runtime.session_factory()) as session:
        workspace = ws.get_workspace(session, current_workspace_id())
        waiting = approvals.pending(session, workspace.id)
        role = ws.workspace_role(session, actor, workspace) if actor else None
        reels = {r.id: r for r in session.query(Reel).filter(Reel.id.in_([w.reel_id for w in waiting]))} \
            if waiting else {}
    if not waiting:
        return
    st.subheader(f"Waiting for approval ({len(waiting)})", anchor=False)
    may = ws.role_at_least(role, "approver")
    for request in waiting:
        reel = reels.get(request.reel_id)
        if reel is None:
            continue
        with st.container(border=True, key=f"approval-{request.id}"):
            st.text(f"{reel.title or f'Reel {reel.id}'} by {request.requested_by}: estimated "
                    f"${request.estimate_usd:,.2f}")
            for scene in reel.scenes:
                st.text(f"Scene {scene.position}: {scene.script}")
            st.text_input("Note", key=f"note-{request.id}", max_chars=approvals.MAX_NOTE_CHARS, disabled=not may)
            c1, c2 = st.columns(2)
            help_text = None if may else "Only an approver of this workspace decides."
            c1.button("Approve", key=f"approve-{request.id}", type="primary", disabled=not may, help=help_text,
                      on_click=_decide, args=(runtime, actor, request.id, "approve"))
            c2.button("Reject", key=f"reject-{request.id}", disabled=not may, help=help_text,
                      on_click=_decide, args=(runtime, actor, request.id, "reject"))


def decisions(runtime: Runtime, actor: Actor | None) -> None:
    """Home → the decisions on the user's own launches that waited for approval."""
    if actor is None:
        return
    with closing(runtime.session_factory()) as session:
        mine = approvals.decisions_for(session, actor, limit=5)
    if not mine:
        return
    st.subheader("Approval decisions", anchor=False)
    for request in mine:
        note = f" — {request.note}" if request.note else ""
        st.text(f"Reel {request.reel_id}: {request.state} by {request.decided_by}{note}")
