"""Launching a batch: one queued reel per valid row, each exactly once whatever happens.

A row's reel is unique on ``(batch_id, batch_row)`` (a unique index), so a double click, two
processes, a re-submitted upload or a launch resumed after a crash never makes a row's reel
twice: :func:`launch_batch` skips rows that have a reel, and a concurrent insert of the same row
fails the unique index, after which the chunk is re-read and only what is still missing is made.
Reels are written in chunks of :data:`CHUNK` rows, each chunk one transaction: reels (``queued``,
attempt 1, a fresh Idempotency-Key), their scenes, attempts and two events per reel
(``created from batch …`` and ``launched``). Rows are re-rendered and re-checked at launch, so a
row edited into a problem after the preview is not launched. Batch reels have ``priority='batch'``:
launches from Compose go before them, and they share the remaining HeyGen slots fairly by owner
(:mod:`core.jobs.queue`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.permissions import Action, require
from core.access.workspaces import acting_as, get_workspace, role_at_least
from core.jobs import budget, lifecycle
from core.models import Batch, BatchRow, Reel, ReelAttempt, ReelEvent, Scene, utcnow
from core.reels.batches import BatchError, batch_rows_frame, get_template, preview_batch, rendered_reel

#: Rows written per transaction.
CHUNK = 500


@dataclass
class BatchLaunch:
    """What :func:`launch_batch` did: reels ``created`` now, rows that ``already`` had one, rows ``skipped``
    (excluded or with problems, by number), and a one-sentence ``message``."""

    created: int = 0
    already: int = 0
    skipped: list[int] = field(default_factory=list)
    message: str = ""


def _write_chunk(session: Session, batch: Batch, template: Any, chunk: list, actor: Actor, estimates: dict) -> int:
    """Insert one chunk of rows as queued reels; the number made. Raises IntegrityError on a lost race."""
    now = utcnow()
    made = []
    for number, values in chunk:
        reel, _ = rendered_reel(template, values)
        made.append((number, reel))
    reel_values = [{
        "title": reel.title, "owner": batch.owner, "owner_id": batch.owner_id, "version": 1, "mode": reel.mode, "aspect_ratio": reel.aspect_ratio,
        "resolution": reel.resolution, "captions": reel.captions, "engine": reel.engine, "status": "queued",
        "attempt": 1, "idempotency_key": str(uuid.uuid4()), "created_at": now, "updated_at": now, "queued_at": now,
        "estimated_duration_s": estimates[number][0], "estimated_cost_usd": estimates[number][1],
        "batch_id": batch.id, "batch_row": number, "is_template": False, "workspace_id": batch.workspace_id,
        "priority": "batch",
    } for number, reel in made]
    ids = list(session.scalars(insert(Reel).returning(Reel.id, sort_by_parameter_order=True), reel_values))
    refused = budget.reserve_many(session, batch.workspace_id,
                                  [(reel_id, v["estimated_cost_usd"] or 0.0) for reel_id, v in zip(ids, reel_values,
                                                                                                 strict=True)],
                                  member=actor.name, user_id=getattr(actor, "user_id", None), now=now)
    if refused:
        raise _OverBudget(refused)
    scenes, attempts, events, links = [], [], [], []
    for reel_id, (number, reel), values in zip(ids, made, reel_values, strict=True):
        scenes += [{"reel_id": reel_id, "position": n, "avatar_id": s.avatar_id, "voice_id": s.voice_id,
                    "script": s.script, "speed": s.speed, "pitch": s.pitch, "locale": s.locale,
                    "background_color": s.background_color} for n, s in enumerate(reel.scenes, start=1)]
        attempts.append({"reel_id": reel_id, "number": 1, "idempotency_key": values["idempotency_key"],
                         "status": "queued", "queued_at": now})
        events += [
            {"reel_id": reel_id, "at": now, "actor": actor.name, "actor_id": actor.user_id, "from_status": "",
             "to_status": "draft", "detail": f"created from batch {batch.id}, row {number}"},
            {"reel_id": reel_id, "at": now, "actor": actor.name, "actor_id": actor.user_id, "from_status": "draft",
             "to_status": "queued",
             "detail": f"launched with batch {batch.id}; estimate {values['estimated_duration_s']:.0f} s, "
                       f"${values['estimated_cost_usd']:.2f}"},
        ]
        links.append((number, reel_id))
    session.execute(insert(Scene), scenes)
    session.execute(insert(ReelAttempt), attempts)
    session.execute(insert(ReelEvent), events)
    for number, reel_id in links:
        session.execute(update(BatchRow).where(BatchRow.batch_id == batch.id, BatchRow.number == number)
                        .values(reel_id=reel_id).execution_options(synchronize_session=False))
    return len(ids)


class _OverBudget(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A chunk's estimates do not fit the budget; carries the refusal sentence."""


def launch_batch(session: Session, batch_id: int, *, actor: Actor, index: Any) -> BatchLaunch:
    """Queue one reel per valid, not excluded row that has none yet; commits chunk by chunk.

    Each chunk reserves its reels' estimates in the workspace's budget ledger in its own transaction
    (:func:`core.jobs.budget.reserve_many`); a chunk that does not fit stops the launch there with the
    numbers in ``message`` (chunks made before stay queued). A producer's batch whose total estimate is
    above the workspace's approval threshold is refused whole: an approver launches it.

    Args:
        index: the :class:`core.catalog.index.CatalogIndex` the rows are checked against.

    The batch's reels belong to the batch's owner; only the owner (producer or higher) or an admin may
    launch it.

    Raises:
        PermissionDenied: ``actor`` is neither the batch's owner (producer) nor an admin; nothing is written.
        BatchError: no such batch, or its template was deleted.
        PermissionDenied: ``actor`` may not launch this batch.
        core.access.workspaces.WorkspaceDenied: ``actor`` is not a member of the batch's workspace.
    """
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise BatchError(f"Batch {batch_id} does not exist (it may have been deleted).")
    workspace = get_workspace(session, batch.workspace_id)
    member, role = acting_as(session, actor, workspace)
    require(member, Action.LAUNCH_REEL, owner_id=batch.owner_id, owner_name=batch.owner)
    if batch.template_id is None:
        raise BatchError("This batch's template was deleted, so its rows cannot be made into reels.")
    template = get_template(session, batch.template_id)
    excluded = set(session.scalars(select(BatchRow.number).where(BatchRow.batch_id == batch_id,
                                                                 BatchRow.excluded.is_(True))))
    preview = preview_batch(template, batch_rows_frame(session, batch_id), index, excluded=excluded)
    report = BatchLaunch(skipped=[r.number for r in preview.rows if not r.ok])
    wanted = {r.number: r for r in preview.rows if r.ok}
    estimates = {n: (r.duration_s, r.cost_usd) for n, r in wanted.items()}
    numbers = sorted(wanted)
    threshold = workspace.approval_threshold_usd
    total = sum(estimates[n][1] or 0.0 for n in numbers)
    if threshold is not None and total > threshold and not role_at_least(role, "approver"):
        report.message = (f"This batch is estimated at ${total:,.2f}, above the ${threshold:,.2f} that needs "
                          "approval; ask an approver of the workspace to launch it.")
        return report
    for start in range(0, len(numbers), CHUNK):
        part = numbers[start:start + CHUNK]
        for _ in range(3):  # a concurrent launch of the same batch: re-read what it made, then go on
            have = set(session.scalars(select(Reel.batch_row).where(Reel.batch_id == batch_id,
                                                                    Reel.batch_row.in_(part))))
            todo = [(n, wanted[n].values) for n in part if n not in have]
            try:
                made = _write_chunk(session, batch, template, todo, actor, estimates) if todo else 0
                session.execute(update(Batch).where(Batch.id == batch_id, Batch.launched_at.is_(None))
                                .values(launched_at=utcnow()).execution_options(synchronize_session=False))
                session.commit()
            except IntegrityError:
                session.rollback()
                continue
            except _OverBudget as refused:
                session.rollback()
                report.message = _launch_message(report) + " " + str(refused)
                return report
            report.created += made
            report.already += len(part) - len(todo)
            break
    report.message = _launch_message(report)
    return report


def _launch_message(report: BatchLaunch) -> str:
    parts = [f"{report.created:,} reel{'s' * (report.created != 1)} queued"]
    if report.already:
        parts.append(f"{report.already:,} already launched")
    if report.skipped:
        parts.append(f"{len(report.skipped):,} row{'s' * (len(report.skipped) != 1)} left out")
    return ", ".join(parts) + "."


def require_batch(actor: Actor, batch: Batch) -> None:
    """Return quietly when ``actor`` may launch, retry or cancel ``batch`` (its owner, a producer, or an admin).

    Batches record their owner by name, so the owner is whoever acts under that name.

    Raises:
        PermissionDenied: otherwise ("Only Ana (owner) or an admin can launch this reel.").
    """
    owner_id = actor.user_id if batch.owner == actor.name else None
    require(actor, Action.LAUNCH_REEL, owner_id=owner_id, owner_name=batch.owner)


def retry_failed(session: Session, batch_id: int, *, actor: Actor) -> int:
    """Queue every failed reel of the batch again (new attempt, new key); the number queued.

    Raises:
        PermissionDenied: ``actor`` may not retry these reels (checked per reel by :func:`lifecycle.retry`).
    """
    ids = session.scalars(select(Reel.id).where(Reel.batch_id == batch_id, Reel.status == "failed")).all()
    return sum(lifecycle.retry(session, reel_id, actor=actor).ok for reel_id in ids)


def cancel_queued(session: Session, batch_id: int, *, actor: Actor) -> int:
    """Cancel every reel of the batch still waiting in our queue; the number cancelled.

    Raises:
        PermissionDenied: ``actor`` may not cancel these reels (checked per reel by :func:`lifecycle.cancel`).
    """
    ids = session.scalars(select(Reel.id).where(Reel.batch_id == batch_id, Reel.status == "queued")).all()
    return sum(lifecycle.cancel(session, reel_id, actor=actor).ok for reel_id in ids)
