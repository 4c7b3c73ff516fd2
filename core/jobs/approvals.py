"""Approval before spend: approvers approve or reject launches that wait in ``awaiting_approval``.

:func:`core.jobs.lifecycle.launch` sends a reel estimated above its workspace's threshold to
``awaiting_approval`` with a pending :class:`~core.models.ApprovalRequest`, its estimate reserved.
Here an approver (role ``approver`` or ``admin`` in the workspace, not the requester) decides:

- :func:`approve` queues the reel (a new attempt and Idempotency-Key: one approval, one video; a
  second approval of the same request changes nothing);
- :func:`reject` returns it to ``draft`` with the note and releases its reservation.

Both are conditional updates (``… WHERE state = 'pending'``), so two approvers clicking at once
make exactly one decision, and each writes a reel event.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.access.actor import Actor
from core.access.workspaces import WorkspaceDenied, WorkspaceError, get_workspace, require_role
from core.jobs import budget, lifecycle
from core.models import ApprovalRequest, Reel, utcnow

#: Longest note kept with a decision (characters).
MAX_NOTE_CHARS = 2_000


@dataclass(frozen=True)
class Decision:
    """Outcome of :func:`approve` or :func:`reject`: ``ok``, the reel's ``status`` after, one-sentence ``message``."""

    ok: bool
    status: str
    message: str


def pending(session: Session, workspace_id: int) -> list[ApprovalRequest]:
    """The workspace's launches waiting for approval, oldest first."""
    return list(session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.workspace_id == workspace_id, ApprovalRequest.state == "pending")
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)))


def decisions_for(session: Session, actor: Actor, limit: int = 20) -> list[ApprovalRequest]:
    """The latest decisions on ``actor``'s own requests (Home shows them), newest first."""
    user_id = getattr(actor, "user_id", None)
    mine = (ApprovalRequest.requested_by_id == user_id if user_id is not None
            else ApprovalRequest.requested_by == actor.name)
    return list(session.scalars(select(ApprovalRequest).where(mine, ApprovalRequest.state != "pending")
                                .order_by(ApprovalRequest.decided_at.desc()).limit(limit)))


def _clean_note(note: str | None) -> str:
    text = " ".join((note or "").split())
    if len(text) > MAX_NOTE_CHARS:
        raise WorkspaceError(f"A note is limited to {MAX_NOTE_CHARS:,} characters; this one has {len(text):,}.")
    return text


def _load(session: Session, request_id: int, actor: Actor) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise WorkspaceError(f"There is no approval request {request_id}; reload the page.")
    workspace = get_workspace(session, request.workspace_id)
    role = require_role(session, actor, workspace, "approver")
    user_id = getattr(actor, "user_id", None)
    own = (request.requested_by_id == user_id) if user_id is not None else request.requested_by == actor.name
    if own and role != "admin":
        raise WorkspaceDenied("Someone else must approve your own launch; ask another approver.")
    return request


def _decide(session: Session, request: ApprovalRequest, state: str, actor: Actor, note: str) -> bool:
    """``pending → state`` for ``request``; True when this call made the decision."""
    values = {"state": state, "decided_by": actor.name, "decided_at": utcnow(), "note": note}
    changed = session.execute(update(ApprovalRequest).where(ApprovalRequest.id == request.id,
                                                            ApprovalRequest.state == "pending")
                              .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed == 1:
        for key, value in values.items():
            set_committed_value(request, key, value)
    return changed == 1


def approve(session: Session, request_id: int, *, actor: Actor, note: str = "") -> Decision:
    """Approve a waiting launch: the reel is queued with a new attempt (its reservation stands). Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not an approver of the workspace, or asked for this approval.
        WorkspaceError: no such request, or an over-long note.
    """
    request = _load(session, request_id, actor)
    note = _clean_note(note)
    if not _decide(session, request, "approved", actor, note):
        session.rollback()
        return Decision(False, _status(session, request.reel_id), "This launch was decided already.")
    reel = session.get(Reel, request.reel_id)
    detail = f"approved by {actor.name}" + (f": {note}" if note else "")
    result = lifecycle._queue_new_attempt(session, reel, actor=actor, expected=("awaiting_approval",),
                                          verb="approved", detail=detail)
    return Decision(result.ok, result.status, "Approved: the reel is queued for HeyGen." if result.ok
                    else result.message)


def reject(session: Session, request_id: int, *, actor: Actor, note: str = "") -> Decision:
    """Reject a waiting launch: the reel returns to draft with the note; its reservation is released. Commits.

    Raises:
        WorkspaceDenied: ``actor`` is not an approver of the workspace, or asked for this approval.
        WorkspaceError: no such request, or an over-long note.
    """
    request = _load(session, request_id, actor)
    note = _clean_note(note)
    if not _decide(session, request, "rejected", actor, note):
        session.rollback()
        return Decision(False, _status(session, request.reel_id), "This launch was decided already.")
    reel = session.get(Reel, request.reel_id)
    detail = f"rejected by {actor.name}" + (f": {note}" if note else "")
    if not lifecycle._transition(session, reel, "draft", actor=actor, detail=detail,
                                 expected=("awaiting_approval",)):
        session.rollback()
        return Decision(False, _status(session, request.reel_id), "This reel is no longer waiting for approval.")
    budget.release(session, reel.id, request.attempt)
    session.commit()
    return Decision(True, "draft", "Rejected: the reel is a draft again and its estimate was released.")


def _status(session: Session, reel_id: int) -> str:
    return session.scalar(select(Reel.status).where(Reel.id == reel_id)) or "missing"
