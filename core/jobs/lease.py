"""The worker lease: one row in ``worker_leases`` says which worker acts now.

Only the holder of the lease ``"worker"`` submits and polls. Acquire or renew with
``UPDATE … WHERE name='worker' AND (holder = me OR expires_at < now)``; a dead holder's lease
expires after ``WORKER_LEASE_SECONDS`` and another worker takes over. Times are aware UTC
datetimes, durations seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.models import WorkerLease, utcnow

LEASE_NAME = "worker"


def _if_holder(name: str, column: Any) -> Any:
    """SQL ``CASE WHEN holder = :name THEN column END`` (keep acquired_at on renewal)."""
    return case((WorkerLease.holder == name, column), else_=None)


def acquire(session_factory: sessionmaker, holder: str, now: datetime, lease_seconds: float) -> bool:
    """Take or renew the lease for ``holder`` until ``now + lease_seconds``; True when ``holder`` holds it.

    Conditional ``UPDATE worker_leases … WHERE name=:n AND (holder=:me OR holder IS NULL
    OR expires_at < :now)``; the row is inserted on first use (a lost insert race → False).
    """
    expires = now + timedelta(seconds=lease_seconds)
    with session_factory() as session:
        result = session.execute(
            update(WorkerLease)
            .where(WorkerLease.name == LEASE_NAME)
            .where((WorkerLease.holder == holder) | WorkerLease.holder.is_(None)
                   | WorkerLease.expires_at.is_(None) | (WorkerLease.expires_at < now))
            .values(holder=holder, expires_at=expires,
                    acquired_at=func.coalesce(_if_holder(holder, WorkerLease.acquired_at), now))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            session.commit()
            return True
        session.rollback()
        if session.get(WorkerLease, LEASE_NAME) is not None:
            return False
        session.add(WorkerLease(name=LEASE_NAME, holder=holder, acquired_at=now, expires_at=expires))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        return True


def release(session_factory: sessionmaker, holder: str) -> None:
    """Give up the lease if ``holder`` holds it (lets another worker act at once)."""
    with session_factory() as session:
        session.execute(
            update(WorkerLease).where(WorkerLease.name == LEASE_NAME, WorkerLease.holder == holder)
            .values(holder=None, expires_at=None).execution_options(synchronize_session=False)
        )
        session.commit()


def seconds_left(session_factory: sessionmaker, now: datetime) -> float | None:
    """Seconds until the current holder's lease expires (negative: expired); ``None`` when nobody holds it."""
    with session_factory() as session:
        lease = session.get(WorkerLease, LEASE_NAME)
        if lease is None or lease.holder is None or lease.expires_at is None:
            return None
        return (lease.expires_at - now).total_seconds()


@dataclass(frozen=True)
class WorkerStatus:
    """The worker lease as stored in ``worker_leases``.

    ``holder``: the worker acting now (``host:pid:id``) or ``None``; ``last_cycle_at``: when the
    holder last renewed its lease (each cycle renews it); ``alive``: the lease has not expired.
    """

    holder: str | None
    acquired_at: datetime | None
    last_cycle_at: datetime | None
    expires_at: datetime | None
    alive: bool


def worker_status(session: Session, *, lease_seconds: float, now: datetime | None = None) -> WorkerStatus:
    """Read the lease row; ``last_cycle_at`` = ``expires_at`` − ``lease_seconds``."""
    now = now or utcnow()
    lease = session.get(WorkerLease, LEASE_NAME)
    if lease is None or lease.holder is None or lease.expires_at is None:
        return WorkerStatus(None, None, None, None, False)
    last = lease.expires_at - timedelta(seconds=lease_seconds)
    return WorkerStatus(lease.holder, lease.acquired_at, last, lease.expires_at, lease.expires_at > now)
