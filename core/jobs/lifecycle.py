"""Launching reels and keeping their status: the idempotent core of Reel Studio.

Every status change goes through :func:`transition`, a conditional
``UPDATE reels SET status=:to … WHERE id=:id AND status IN (:expected)``: when two
clicks, two workers or a worker and a webhook race, exactly one change wins and only
the winner writes a :class:`~core.models.ReelEvent`. Pages read the database only;
nothing here calls HeyGen except :func:`refresh_links`.

Status mapping, HeyGen → ours
-----------------------------

=============================================  ==========================================
HeyGen says                                    our status
=============================================  ==========================================
create ``waiting``, statuses ``queued``,       ``pending`` (HeyGen has the job, not started)
detail ``pending``
``processing``, or any unknown non-terminal    ``processing``
``completed``                                  ``completed`` (details re-read with GET)
``failed``                                     ``failed`` (``failure_code``/``failure_message``)
statuses ``not_found``                         kept as is for :data:`NOT_FOUND_GRACE_S`
                                               after submission (HeyGen may lag), then
                                               ``failed`` with code ``video_not_found``
=============================================  ==========================================

Our own statuses before HeyGen: ``draft`` → ``queued`` (launched, waiting for a
worker) → ``submitting`` (a worker is sending ``POST /v3/videos``) → ``pending``.
``cancelled`` is reachable from ``queued`` only. Times are aware UTC datetimes;
durations are seconds; money is USD.

Who acts
--------

Every function here that changes a reel takes ``actor`` (:class:`core.access.actor.Actor`,
keyword-only, no default) and checks it with :mod:`core.access.permissions` before writing:
:func:`launch`, :func:`cancel` and :func:`retry` need the reel's owner (producer) or an admin;
:func:`transition`, :func:`claim_queued`, :func:`note`, :func:`apply_video` and :func:`fail_reel`
are the worker's and the webhook receiver's (``Action.PROCESS_JOBS``); :func:`refresh_links` is
open to everyone signed in. A refusal raises :class:`~core.access.permissions.PermissionDenied`
before anything is written. Events record ``actor.name`` and ``actor.user_id``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.access.actor import Actor
from core.access.permissions import Action, require, require_reel
from core.heygen.types import Video
from core.jobs import budget
from core.models import (
    ACTIVE_STATUSES,
    QUEUE_PRIORITIES,
    REEL_STATUSES,
    ApprovalRequest,
    Reel,
    ReelAttempt,
    ReelEvent,
    Workspace,
    utcnow,
)
from core.reels import versions as script_versions

log = logging.getLogger(__name__)

#: Seconds after submission during which a ``not_found`` from the statuses endpoint is tolerated.
NOT_FOUND_GRACE_S = 300.0
#: How long HeyGen's presigned media links live when the URL does not say (seconds).
DEFAULT_LINK_LIFETIME_S = 7 * 24 * 3600.0

#: Plain tables for the hot UPDATE/INSERT statements (no ORM bulk-persistence layer to go through).
_ATTEMPTS, _EVENTS = ReelAttempt.__table__, ReelEvent.__table__
_EVENT_INSERT, _ATTEMPT_INSERT = insert(_EVENTS), insert(_ATTEMPTS)


#: Reel column stamped (once) when a reel enters a status.
_TIMESTAMP_FOR = {
    "queued": "queued_at",
    "pending": "submitted_at",
    "processing": "processing_at",
    "completed": "completed_at",
}

_HEYGEN_TO_OURS = {
    "waiting": "pending",
    "queued": "pending",
    "pending": "pending",
    "processing": "processing",
    "completed": "completed",
    "failed": "failed",
    "not_found": "not_found",
}


def map_heygen_status(raw: str | None) -> str:
    """Our status for a HeyGen status string (see the module table).

    Returns ``pending``, ``processing``, ``completed``, ``failed`` or ``not_found``
    (the last one is not a reel status: the caller decides after a grace period).
    Comparison ignores case and surrounding spaces; unknown values → ``processing``.
    """
    return _HEYGEN_TO_OURS.get((raw or "").strip().lower(), "processing")


# --------------------------------------------------------------------------- transitions


def transition(
    session: Session,
    reel: Reel,
    to_status: str,
    *,
    actor: Actor,
    detail: str = "",
    expected: Iterable[str] | None = None,
    values: dict[str, Any] | None = None,
    now: datetime | None = None,
    attempt_values: dict[str, Any] | None = None,
) -> bool:
    """Move ``reel`` to ``to_status`` if, in the database, its status is one of ``expected``.

    Runs ``UPDATE reels SET status=:to, … WHERE id=:id AND status=:current``, first with
    ``current`` = the status the object shows (when it is in ``expected``), and when that
    changes no row with ``current`` read fresh from the database (must be in ``expected``;
    default ``expected``: the status the object shows). Only when exactly one row changed:
    stamps the status's time column (``queued_at``, ``submitted_at``, ``processing_at``,
    ``completed_at``) unless already set, applies ``values`` (other reel columns) in the
    same statement, mirrors the status (plus ``attempt_values``, other attempt columns) onto
    the current :class:`ReelAttempt` in one UPDATE, writes one :class:`ReelEvent`
    (``from_status`` = the status actually replaced) and refreshes ``reel`` in memory.
    Does not commit.

    Returns:
        True when this call made the change; False when the reel was not in an
        expected status (someone else moved it first) — then nothing was written.

    Raises:
        PermissionDenied: ``actor`` is not the worker, the webhook receiver or Reel Studio itself.
        ValueError: ``to_status`` is not one of :data:`core.models.REEL_STATUSES`.
    """
    require(actor, Action.PROCESS_JOBS)
    return _transition(session, reel, to_status, actor=actor, detail=detail, expected=expected, values=values,
                       now=now, attempt_values=attempt_values)


def _transition(
    session: Session, reel: Reel, to_status: str, *, actor: Actor, detail: str = "",
    expected: Iterable[str] | None = None, values: dict[str, Any] | None = None, now: datetime | None = None,
    attempt_values: dict[str, Any] | None = None,
) -> bool:
    """:func:`transition` without the permission check, for callers that checked already."""
    if to_status not in REEL_STATUSES:
        raise ValueError(f"unknown reel status {to_status!r}")
    allowed = tuple(expected) if expected is not None else (reel.status,)
    now = now or utcnow()
    changes = _changes_for(reel, to_status, now, values)
    # First try the status the object shows (no SELECT: the common case is one UPDATE); when that
    # changes no row, read the current status and try again.
    current = reel.status if reel.status in allowed else None
    for _ in range(5):  # a competing writer may change the status between our read and update
        if current is None:
            current = session.execute(select(Reel.status).where(Reel.id == reel.id)).scalar_one_or_none()
            if current is None or current not in allowed:
                return False
        changed = session.execute(update(Reel).where(Reel.id == reel.id, Reel.status == current)
                                  .values(changes).execution_options(synchronize_session=False)).rowcount
        if changed == 1:
            _after_transition(session, reel, current, to_status, changes, actor, detail, now,
                              attempt_values=attempt_values)
            return True
        current = None
    return False


def _changes_for(reel: Reel, to_status: str, now: datetime, values: dict[str, Any] | None) -> dict[str, Any]:
    changes: dict[str, Any] = {"status": to_status, "updated_at": now}
    stamp = _TIMESTAMP_FOR.get(to_status)
    if stamp and getattr(reel, stamp) is None:
        changes[stamp] = now
    changes.update(values or {})
    return changes


def _after_transition(
    session: Session, reel: Reel, from_status: str, to_status: str, changes: dict[str, Any],
    actor: Actor, detail: str, now: datetime, *, attempt_values: dict[str, Any] | None = None,
) -> None:
    for key, value in changes.items():
        set_committed_value(reel, key, value)
    if reel.attempt and "attempt" not in changes:  # a new attempt's row is written by the caller
        session.execute(update(ReelAttempt)
                        .where(ReelAttempt.reel_id == reel.id, ReelAttempt.number == reel.attempt)
                        .values(status=to_status, **(attempt_values or {}))
                        .execution_options(synchronize_session=False))
    _write_event(session, reel.id, actor, from_status, to_status, detail, now)


def _write_event(
    session: Session, reel_id: int, actor: Actor, from_status: str | None, to_status: str, detail: str,
    now: datetime,
) -> None:
    session.execute(_EVENT_INSERT, {"reel_id": reel_id, "at": now, "actor": actor.name, "actor_id": actor.user_id,
                                    "from_status": from_status, "to_status": to_status, "detail": detail or ""})


def claim_queued(session: Session, reel_ids: Sequence[int], *, actor: Actor, now: datetime | None = None) -> list[int]:
    """Claim queued reels for submission, in bulk: ``queued → submitting`` with ``claimed_by=actor.name``.

    One conditional ``UPDATE reels … WHERE id IN (:ids) AND status='queued' RETURNING id`` (a
    reel that another writer moved first is left out), then one UPDATE mirroring the status onto
    the claimed reels' current attempts and one multi-row INSERT of their events (``queued →
    submitting``, in the order of ``reel_ids``). Does not commit.

    Returns:
        The ids actually claimed, in the order of ``reel_ids``.

    Raises:
        PermissionDenied: ``actor`` is not a worker (or Reel Studio itself).
    """
    require(actor, Action.PROCESS_JOBS)
    if not reel_ids:
        return []
    now = now or utcnow()
    won = set(session.scalars(
        update(Reel).where(Reel.id.in_(list(reel_ids)), Reel.status == "queued")
        .values(status="submitting", claimed_by=actor.name[:100], updated_at=now)
        .returning(Reel.id).execution_options(synchronize_session=False)
    ).all())
    claimed = [reel_id for reel_id in reel_ids if reel_id in won]
    if not claimed:
        return []
    current_attempt = select(Reel.attempt).where(Reel.id == ReelAttempt.reel_id).scalar_subquery()
    session.execute(
        update(ReelAttempt).where(ReelAttempt.reel_id.in_(claimed), ReelAttempt.number == current_attempt)
        .values(status="submitting").execution_options(synchronize_session=False)
    )
    session.execute(_EVENT_INSERT, [
        {"reel_id": reel_id, "at": now, "actor": actor.name, "actor_id": actor.user_id, "from_status": "queued",
         "to_status": "submitting", "detail": "claimed for submission"} for reel_id in claimed
    ])
    return claimed


def note(session: Session, reel: Reel, *, actor: Actor, detail: str, now: datetime | None = None) -> None:
    """Record a fact that is not a status change (``from_status == to_status``). Does not commit.

    Raises:
        PermissionDenied: ``actor`` is not the worker, the webhook receiver or Reel Studio itself.
    """
    require(actor, Action.PROCESS_JOBS)
    _write_event(session, reel.id, actor, reel.status, reel.status, detail, now or utcnow())


# --------------------------------------------------------------------------- user actions


@dataclass(frozen=True)
class LaunchResult:
    """Outcome of :func:`launch`, :func:`cancel` or :func:`retry`.

    ``ok``: the action happened. ``status``: the reel's status afterwards (``missing``
    for an unknown id). ``message``: one sentence for the user. ``problems``: the
    :class:`core.reels.validation.Problem` list when validation failed.
    """

    ok: bool
    status: str
    message: str
    problems: list[Any] = field(default_factory=list)


def _not_found(reel_id: int) -> LaunchResult:
    return LaunchResult(False, "missing", f"Reel {reel_id} does not exist.")


def _current_status(session: Session, reel_id: int) -> str:
    return session.execute(select(Reel.status).where(Reel.id == reel_id)).scalar_one_or_none() or "missing"


def _lost(session: Session, reel_id: int, verb: str) -> LaunchResult:
    session.rollback()
    status = _current_status(session, reel_id)
    return LaunchResult(False, status, f"This reel was already {verb}; it is now {status}.")


def launch(session: Session, reel_id: int, *, actor: Actor, index: Any,
           priority: str = "interactive") -> LaunchResult:
    """Launch a draft: validate, estimate, reserve the estimate, then queue it (or ask for approval).

    In one transaction: the estimate reserved in the budget ledger (:func:`core.jobs.budget.reserve`,
    refused with the numbers when the member's cap or the workspace's month would be exceeded), a
    new :class:`ReelAttempt` (``number`` = previous + 1, a uuid4 ``idempotency_key``, the ids of the
    script versions its scenes say) and the conditional change ``draft → queued``. When the workspace
    asks for approval above a threshold and the estimate exceeds it (and ``actor`` is no approver
    there), the reel goes to ``awaiting_approval`` with an :class:`ApprovalRequest` instead, its
    estimate reserved. Of any number of concurrent launches of one reel (threads or processes) exactly
    one wins; the others get ``ok=False`` with "already launched" and the current status. A reel with
    validation problems or over budget stays a draft and nothing is written. Commits on success.

    Permissions use ``actor``'s role in the reel's workspace (:func:`core.access.workspaces.acting_as`).

    Args:
        index: the :class:`core.catalog.index.CatalogIndex` used by :func:`core.reels.validation.validate_reel`.
        priority: ``interactive`` (a person launched it and waits: sent before any batch reel) or
            ``batch`` (shares the remaining HeyGen slots fairly by owner; :mod:`core.jobs.queue`).

    Raises:
        PermissionDenied: ``actor`` is neither the reel's owner (producer) nor an admin; nothing is written.
        core.access.workspaces.WorkspaceDenied: ``actor`` is not a member of the reel's workspace.
        ValueError: ``priority`` is not one of :data:`core.models.QUEUE_PRIORITIES`.
    """
    from core.access.workspaces import acting_as, role_at_least
    from core.reels.estimate import estimate_reel
    from core.reels.validation import validate_reel

    if priority not in QUEUE_PRIORITIES:
        raise ValueError(f"The queue priority must be interactive or batch, not {priority!r}.")

    reel = session.get(Reel, reel_id)
    if reel is None:
        return _not_found(reel_id)
    workspace = session.get(Workspace, reel.workspace_id)
    member, role = acting_as(session, actor, workspace)
    require_reel(member, Action.LAUNCH_REEL, reel)
    if reel.status != "draft":
        return LaunchResult(False, reel.status, f"This reel was already launched; it is now {reel.status}.")
    if reel.is_template:
        return LaunchResult(False, "draft", "A template is not launched itself; make a batch from it on the "
                                            "Batches page.")
    problems = list(validate_reel(reel, index))
    if problems:
        session.rollback()
        count = len(problems)
        return LaunchResult(False, "draft", f"Fix {count} problem{'s' * (count != 1)} before launching.",
                            problems)
    estimate = estimate_reel(reel, index)
    extra = {"estimated_duration_s": estimate.duration_s, "estimated_cost_usd": estimate.cost_usd,
             "priority": priority}
    threshold = workspace.approval_threshold_usd
    if threshold is not None and estimate.cost_usd > threshold and not role_at_least(role, "approver"):
        return _request_approval(session, reel, actor, estimate.cost_usd, threshold, extra)
    return _queue_new_attempt(session, reel, actor=actor, expected=("draft",), verb="launched",
                              detail=f"launched; estimate {estimate.duration_s:.0f} s, ${estimate.cost_usd:.2f}",
                              extra=extra, reserve=True)


def _member(session: Session, actor: Actor, reel: Reel) -> Actor:
    """``actor`` with the rights of their role in the reel's workspace (raises WorkspaceDenied for non-members)."""
    from core.access.workspaces import acting_as

    return acting_as(session, actor, session.get(Workspace, reel.workspace_id))[0]


def _reserve(session: Session, reel: Reel, actor: Actor, number: int, cost_usd: float) -> str | None:
    """Reserve after the status change won (so a lost race reserves nothing); the refusal sentence or ``None``."""
    return budget.reserve(session, reel, attempt=number, estimate_usd=cost_usd, member=actor.name,
                          user_id=actor.user_id)


def _request_approval(session: Session, reel: Reel, actor: Actor, cost_usd: float, threshold: float,
                      extra: dict[str, Any]) -> LaunchResult:
    """``draft → awaiting_approval`` with a pending :class:`ApprovalRequest`; commits (the estimate stays reserved)."""
    number = (reel.attempt or 0) + 1
    detail = f"approval requested; estimate ${cost_usd:.2f} is above the ${threshold:.2f} threshold"
    if not _transition(session, reel, "awaiting_approval", actor=actor, detail=detail, expected=("draft",),
                       values=extra):
        return _lost(session, reel.id, "launched")
    refused = _reserve(session, reel, actor, number, cost_usd)
    if refused:
        session.rollback()
        return LaunchResult(False, "draft", refused)
    session.add(ApprovalRequest(workspace_id=reel.workspace_id, reel_id=reel.id, attempt=number,
                                requested_by=actor.name, requested_by_id=actor.user_id,
                                estimate_usd=round(cost_usd, 2), state="pending"))
    session.commit()
    return LaunchResult(True, "awaiting_approval", f"Launches above ${threshold:,.2f} need approval: this reel "
                                                   f"(${cost_usd:,.2f}) waits for an approver.")


def _queue_new_attempt(
    session: Session, reel: Reel, *, actor: Actor, expected: tuple[str, ...], verb: str, detail: str,
    extra: dict[str, Any] | None = None, reserve: bool = False,
) -> LaunchResult:
    """Conditional ``expected → queued`` plus a fresh attempt and key, committed together.

    With ``reserve``, the reel's estimate is reserved for ``actor`` in the same transaction; a
    refusal rolls everything back and is returned (``ok=False``, the status before).
    """
    number = (reel.attempt or 0) + 1
    key = str(uuid.uuid4())
    now = utcnow()
    values = {
        "attempt": number, "idempotency_key": key, "video_id": None, "heygen_status": None,
        "claimed_by": None, "queued_at": now, "submitted_at": None, "processing_at": None,
        "completed_at": None, "failure_code": None, "failure_message": None, **(extra or {}),
    }
    if not _transition(session, reel, "queued", actor=actor, detail=detail, expected=expected,
                       values=values, now=now):
        return _lost(session, reel.id, verb)
    said = script_versions.current_version_ids(session, reel, actor=actor)
    session.execute(_ATTEMPT_INSERT, {"reel_id": reel.id, "number": number, "idempotency_key": key,
                                      "status": "queued", "queued_at": now, "script_version_ids": said})
    if reserve:
        refused = _reserve(session, reel, actor, number, reel.estimated_cost_usd or 0.0)
        if refused:
            session.rollback()
            return LaunchResult(False, expected[0], refused)
    session.commit()
    return LaunchResult(True, "queued", "Launched: the reel is queued for HeyGen." if number == 1
                        else f"Queued again as attempt {number}.")


def cancel(session: Session, reel_id: int, *, actor: Actor) -> LaunchResult:
    """Cancel a reel that is still ``queued`` (nothing has been sent to HeyGen). Commits.

    A reel the worker has already claimed (``submitting`` or later) cannot be cancelled:
    the result is ``ok=False`` with its current status.

    Raises:
        PermissionDenied: ``actor`` is neither the reel's owner (producer) nor an admin; nothing is written.
    """
    reel = session.get(Reel, reel_id)
    if reel is None:
        return _not_found(reel_id)
    require_reel(_member(session, actor, reel), Action.CANCEL_REEL, reel)
    if not _transition(session, reel, "cancelled", actor=actor, detail="cancelled before submission",
                       expected=("queued",)):
        session.rollback()
        status = _current_status(session, reel_id)
        return LaunchResult(False, status, f"Only queued reels can be cancelled; this one is {status}.")
    budget.release(session, reel.id, reel.attempt)
    session.commit()
    return LaunchResult(True, "cancelled", "Cancelled; nothing was sent to HeyGen.")


def retry(session: Session, reel_id: int, *, actor: Actor) -> LaunchResult:
    """Queue a ``failed`` reel again with a NEW attempt and Idempotency-Key, its estimate reserved again. Commits.

    Earlier attempts keep their key, video_id and failure. Concurrent retries → one wins. Refused with
    the numbers when the budget cannot hold the estimate (the reel stays failed).

    Raises:
        PermissionDenied: ``actor`` is neither the reel's owner (producer) nor an admin; nothing is written.
    """
    reel = session.get(Reel, reel_id)
    if reel is None:
        return _not_found(reel_id)
    require_reel(_member(session, actor, reel), Action.RETRY_REEL, reel)
    if reel.status != "failed":
        return LaunchResult(False, reel.status, f"Only failed reels can be retried; this one is {reel.status}.")
    return _queue_new_attempt(session, reel, actor=actor, expected=("failed",), verb="retried",
                              detail=f"retry as attempt {(reel.attempt or 0) + 1}", reserve=True)


# --------------------------------------------------------------------------- HeyGen results


def _parse_expires(url: str | None) -> datetime | None:
    """``Expires=<unix seconds>`` from a presigned URL's query, or ``None``."""
    if not url:
        return None
    query = parse_qs(urlsplit(url).query)
    raw = (query.get("Expires") or query.get("X-Amz-Expires-At") or [None])[0]
    try:
        return datetime.fromtimestamp(float(raw), UTC) if raw else None
    except (ValueError, OverflowError, OSError):
        return None


def link_values(video: Video, now: datetime | None = None) -> dict[str, Any]:
    """Reel columns for the media links of a completed ``video`` plus ``links_expire_at``.

    ``links_expire_at`` comes from ``Expires=`` in ``video_url`` when present, else now + 7 days.
    """
    now = now or utcnow()
    return {
        "video_url": video.video_url,
        "captioned_video_url": video.captioned_video_url,
        "subtitle_url": video.subtitle_url,
        "thumbnail_url": video.thumbnail_url,
        "gif_url": video.gif_url,
        "video_page_url": video.video_page_url,
        "links_expire_at": _parse_expires(video.video_url) or now + timedelta(seconds=DEFAULT_LINK_LIFETIME_S),
    }


def apply_video(
    session: Session, reel: Reel, video: Video, *, actor: Actor, now: datetime | None = None,
) -> bool:
    """Bring ``reel`` in line with HeyGen's ``video`` (from ``GET /v3/videos/{id}`` or a webhook).

    ``completed`` → status completed with ``duration_s`` (seconds), links, thumbnail,
    subtitles, ``links_expire_at``; the attempt gets ``render_seconds`` and
    ``duration_s`` (the render-time history). ``failed`` → status failed with
    ``failure_code``/``failure_message``. ``pending``/``processing`` → moves forward
    only. Terminal reels are never changed (a repeated event is a no-op). Does not commit.

    Returns:
        True when the reel's status changed.

    Raises:
        PermissionDenied: ``actor`` is not the worker, the webhook receiver or Reel Studio itself.
    """
    require(actor, Action.PROCESS_JOBS)
    return _apply_video(session, reel, video, actor=actor, now=now)


def _apply_video(session: Session, reel: Reel, video: Video, *, actor: Actor, now: datetime | None = None) -> bool:
    now = now or utcnow()
    ours = map_heygen_status(video.status)
    active = ACTIVE_STATUSES
    if ours == "completed":
        values = {"heygen_status": video.status, "duration_s": video.duration, **link_values(video, now)}
        changed = _transition(session, reel, "completed", actor=actor, expected=active, values=values,
                             now=now, detail=f"video {video.id} ready ({video.duration or 0:.1f} s)")
        if changed:
            _finish_attempt(session, reel, now, render=True, duration_s=video.duration)
            budget.settle(session, reel, video.duration, now)
        return changed
    if ours == "failed":
        code = video.failure_code or "render_failed"
        message = video.failure_message or "HeyGen reported the render as failed without a reason."
        changed = _transition(session, reel, "failed", actor=actor, expected=active, now=now,
                             values={"heygen_status": video.status, "failure_code": code,
                                     "failure_message": message},
                             detail=f"{code}: {message}")
        if changed:
            _finish_attempt(session, reel, now, failure=(code, message))
            budget.release(session, reel.id, reel.attempt, now)
        return changed
    if ours == "processing":
        return _transition(session, reel, "processing", actor=actor, expected=("submitting", "pending"),
                          values={"heygen_status": video.status}, now=now, detail="HeyGen is rendering")
    return False


def _finish_attempt(
    session: Session, reel: Reel, now: datetime, *, render: bool = False, duration_s: float | None = None,
    failure: tuple[str, str] | None = None,
) -> None:
    values: dict[str, Any] = {"finished_at": now}
    if render and reel.submitted_at is not None:
        values["render_seconds"] = max(0.0, (now - reel.submitted_at).total_seconds())
        values["duration_s"] = duration_s
    if failure:
        values["failure_code"], values["failure_message"] = failure
    session.execute(
        update(ReelAttempt).where(ReelAttempt.reel_id == reel.id, ReelAttempt.number == reel.attempt)
        .values(**values).execution_options(synchronize_session=False)
    )


def fail_reel(
    session: Session, reel: Reel, code: str, message: str, *, actor: Actor,
    expected: Sequence[str] = ACTIVE_STATUSES, now: datetime | None = None,
) -> bool:
    """Move ``reel`` to ``failed`` with ``failure_code=code`` and a one-sentence ``message``. No commit.

    Raises:
        PermissionDenied: ``actor`` is not the worker, the webhook receiver or Reel Studio itself.
    """
    require(actor, Action.PROCESS_JOBS)
    now = now or utcnow()
    changed = _transition(session, reel, "failed", actor=actor, expected=expected, now=now,
                         values={"failure_code": code, "failure_message": message},
                         detail=f"{code}: {message}")
    if changed:
        _finish_attempt(session, reel, now, failure=(code, message))
        budget.release(session, reel.id, reel.attempt, now)
    return changed


def refresh_links(session: Session, client: Any, reel_id: int, *, actor: Actor) -> Reel:
    """Fetch fresh presigned links for a completed reel (``GET /v3/videos/{video_id}``). Commits.

    Stores the links and ``links_expire_at`` (``Expires=`` of the URL, else now + 7 days)
    and writes a same-status event. A reel that turns out completed or failed at HeyGen
    while we still showed it active is brought up to date via :func:`apply_video`.

    Raises:
        PermissionDenied: ``actor`` has no role (every role may refresh links).
        LookupError: unknown reel or a reel without a video_id.
        core.heygen.HeyGenError: the GET failed (e.g. ``NotFoundError`` for a deleted video).
    """
    require(actor, Action.REFRESH_LINKS)
    reel = session.get(Reel, reel_id)
    if reel is None or not reel.video_id:
        raise LookupError(f"Reel {reel_id} has no HeyGen video yet.")
    video = client.get_video(reel.video_id)
    if reel.status != "completed":
        _apply_video(session, reel, video, actor=actor)
    elif video.video_url:
        values = link_values(video)
        session.execute(update(Reel).where(Reel.id == reel.id).values(**values)
                        .execution_options(synchronize_session=False))
        for key, value in values.items():
            set_committed_value(reel, key, value)
        _write_event(session, reel.id, actor, reel.status, reel.status, "fresh download links", utcnow())
    session.commit()
    return reel
