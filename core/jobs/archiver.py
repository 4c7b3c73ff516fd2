"""Running the archive: in the background of the worker, as a backfill, and from the command line.

:class:`Archiver` copies due reels on its own threads, so a slow or failing download never delays
the worker's submissions and polls: each worker cycle calls :meth:`Archiver.schedule`, which only
looks up due reels and hands them to the pool. Retention runs at most once per
:data:`RETENTION_EVERY_S` seconds, on the same pool.

:func:`backfill` archives every completed reel that has no archive yet, one after another, reporting
progress; ``python -m core.jobs.archiver backfill`` runs it with a progress bar on the terminal.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TextIO

import requests
from sqlalchemy.orm import sessionmaker

from core.access.actor import SYSTEM, Actor
from core.access.permissions import Action, require
from core.jobs import archive
from core.jobs.archive import ArchiveOutcome
from core.jobs.archive_store import ArchiveStore, ArchiveStoreError

log = logging.getLogger(__name__)

#: Seconds between two retention sweeps of one archiver.
RETENTION_EVERY_S = 3600.0


class Archiver:
    """Background copying of completed reels into the archive (see the module docstring).

    Args:
        session_factory: sessionmaker bound to the migrated database.
        store: the :class:`~core.jobs.archive_store.ArchiveStore`.
        client: a HeyGen client (``get_video`` refreshes expired links).
        actor: the worker (``worker_actor(name)``), recorded as the claim holder and in the audit trail.
        timeout_s: seconds without a byte before a download counts as stalled.
        retention_days: see :func:`core.jobs.archive.apply_retention` (0 = keep forever).
        threads: reels copied at once.
        clock: ``() -> Unix seconds`` (the worker's, injectable in tests).
    """

    def __init__(self, session_factory: sessionmaker, store: ArchiveStore, client: Any, *, actor: Actor,
                 timeout_s: float = 30.0, retention_days: int = 0, threads: int = 1,
                 clock: Callable[[], float] = time.time) -> None:
        self.session_factory = session_factory
        self.store = store
        self.client = client
        self.actor = actor
        self.timeout_s = timeout_s
        self.retention_days = retention_days
        self.threads = threads
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reel-archive")
        self._inflight: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._last_retention = float("-inf")
        self.outcomes: list[ArchiveOutcome] = []  # the last 100, newest last

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def schedule(self) -> int:
        """Hand due reels to the pool without waiting for them; returns how many were started.

        Never raises: a database error is logged and the next cycle tries again.
        """
        with self._lock:
            for reel_id in [r for r, f in self._inflight.items() if f.done()]:
                del self._inflight[reel_id]
            free = self.threads - len(self._inflight)
            if free <= 0:
                return 0
            try:
                with self.session_factory() as session:
                    ids = archive.due(session, now=self._now(), limit=free + len(self._inflight))
            except Exception:
                log.exception("could not read the reels due for archiving")
                return 0
            started = 0
            for reel_id in ids:
                if reel_id in self._inflight or started >= free:
                    continue
                self._inflight[reel_id] = self._pool.submit(self._one, reel_id)
                started += 1
            if self.retention_days and self.clock() - self._last_retention >= RETENTION_EVERY_S:
                self._last_retention = self.clock()
                self._pool.submit(self._retention)
            return started

    def _one(self, reel_id: int, *, force: bool = False) -> ArchiveOutcome:
        try:
            with requests.Session() as http:
                outcome = archive.archive_reel(self.session_factory, self.store, self.client, reel_id,
                                               actor=self.actor, http=http, timeout_s=self.timeout_s,
                                               force=force, clock=self._now)
        except Exception:  # the database went away, or the reel was deleted mid-copy: the next cycle decides
            log.exception("archiving reel %s stopped", reel_id)
            outcome = ArchiveOutcome(reel_id, "failed", "The copy stopped unexpectedly; it will be tried again.")
        self.outcomes = [*self.outcomes[-99:], outcome]
        return outcome

    def _retention(self) -> None:
        try:
            with self.session_factory() as session:
                removed = archive.apply_retention(session, self.store, days=self.retention_days, actor=self.actor,
                                                  now=self._now())
            if removed:
                log.info("retention removed the archived files of %s reel(s)", removed)
        except (ArchiveStoreError, Exception):
            log.exception("archive retention sweep failed")

    def wait(self, timeout_s: float = 60.0) -> bool:
        """Wait until every started copy has finished (tests, shutdown); True when none is left."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                pending = [f for f in self._inflight.values() if not f.done()]
            if not pending:
                return True
            pending[0].exception(timeout=max(0.0, deadline - time.monotonic()))
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop taking work; copies under way finish in the background (their spool files allow resuming)."""
        self.wait(timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)


Progress = Callable[[int, int, ArchiveOutcome], None]


def backfill(session_factory: sessionmaker, store: ArchiveStore, client: Any, *, actor: Actor,
             timeout_s: float = 30.0, progress: Progress | None = None) -> list[ArchiveOutcome]:
    """Archive every completed reel without a complete archive, oldest first, one at a time.

    Failed reels are tried at once (their backoff is ignored). ``progress(done, total, outcome)`` is
    called after each reel. Returns the outcomes in order.

    Raises:
        PermissionDenied: ``actor`` may not archive (only admins, the worker and Reel Studio itself may).
    """
    require(actor, Action.ARCHIVE_VIDEOS)
    with session_factory() as session:
        ids = archive.missing(session)
    outcomes = []
    with requests.Session() as http:
        for done, reel_id in enumerate(ids, start=1):
            outcome = archive.archive_reel(session_factory, store, client, reel_id, actor=actor, http=http,
                                           timeout_s=timeout_s, force=True)
            outcomes.append(outcome)
            if progress:
                progress(done, len(ids), outcome)
    return outcomes


def backfill_with_progress(session_factory: sessionmaker, store: ArchiveStore, client: Any, *,
                           timeout_s: float = 30.0, stream: TextIO | None = None) -> int:
    """:func:`backfill` with a progress bar (tqdm) on ``stream`` (default stderr) and a summary line on stdout.

    Returns:
        the exit code of ``python -m core.jobs archive-backfill``: 0 when every reel was archived, 1 otherwise.
    """
    from tqdm import tqdm

    bar = tqdm(total=0, unit="reel", desc="Archiving", file=stream or sys.stderr)

    def show(done: int, total: int, outcome: ArchiveOutcome) -> None:
        bar.total = total
        bar.set_postfix_str(f"reel {outcome.reel_id}: {outcome.state}")
        bar.update(1)

    outcomes = backfill(session_factory, store, client, actor=SYSTEM, timeout_s=timeout_s, progress=show)
    bar.close()
    failed = [o for o in outcomes if o.state == "failed"]
    for outcome in failed:
        print(f"reel {outcome.reel_id}: {outcome.reason}", file=stream or sys.stderr)
    print(f"{len(outcomes) - len(failed)} archived, {len(failed)} failed.")
    return 1 if failed else 0
