"""Running the archive: in the background of the worker, as a backfill, and from the command line.

:class:`Archiver` copies due reels on its own threads, so a slow or failing download never delays
the worker's submissions and polls: each worker cycle calls :meth:`Archiver.schedule`, which only
looks up due reels and hands them to the pool. Retention runs at most once per
:data:`RETENTION_EVERY_S` seconds, on the same pool.

:func:`backfill` archives every completed reel that has no archive yet, one after another, reporting
progress; ``python -m core.archive_worker backfill`` runs it with a progress bar on the terminal.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy.orm import sessionmaker

from core import archive
from core.archive import ArchiveOutcome
from core.archive_store import ArchiveStore, ArchiveStoreError

log = logging.getLogger(__name__)

#: Seconds between two retention sweeps of one archiver.
RETENTION_EVERY_S = 3600.0


class Archiver:
    """Background copying of completed reels into the archive (see the module docstring).

    Args:
        session_factory: sessionmaker bound to the migrated database.
        store: the :class:`~core.archive_store.ArchiveStore`.
        client: a HeyGen client (``get_video`` refreshes expired links).
        holder: the worker's name, recorded as the claim holder and in the audit trail.
        timeout_s: seconds without a byte before a download counts as stalled.
        retention_days: see :func:`core.archive.apply_retention` (0 = keep forever).
        threads: reels copied at once.
        clock: ``() -> Unix seconds`` (the worker's, injectable in tests).
    """

    def __init__(self, session_factory: sessionmaker, store: ArchiveStore, client: Any, *, holder: str,
                 timeout_s: float = 30.0, retention_days: int = 0, threads: int = 1,
                 clock: Callable[[], float] = time.time) -> None:
        self.session_factory = session_factory
        self.store = store
        self.client = client
        self.holder = holder
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
        with requests.Session() as http:
            outcome = archive.archive_reel(self.session_factory, self.store, self.client, reel_id,
                                           holder=self.holder, http=http, timeout_s=self.timeout_s,
                                           force=force, clock=self._now)
        self.outcomes = [*self.outcomes[-99:], outcome]
        return outcome

    def _retention(self) -> None:
        try:
            with self.session_factory() as session:
                removed = archive.apply_retention(session, self.store, days=self.retention_days, now=self._now())
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


def backfill(session_factory: sessionmaker, store: ArchiveStore, client: Any, *, holder: str,
             timeout_s: float = 30.0, progress: Progress | None = None) -> list[ArchiveOutcome]:
    """Archive every completed reel without a complete archive, oldest first, one at a time.

    Failed reels are tried at once (their backoff is ignored). ``progress(done, total, outcome)`` is
    called after each reel. Returns the outcomes in order.
    """
    with session_factory() as session:
        ids = archive.missing(session)
    outcomes = []
    with requests.Session() as http:
        for done, reel_id in enumerate(ids, start=1):
            outcome = archive.archive_reel(session_factory, store, client, reel_id, holder=holder, http=http,
                                           timeout_s=timeout_s, force=True)
            outcomes.append(outcome)
            if progress:
                progress(done, len(ids), outcome)
    return outcomes


def main(argv: list[str] | None = None, *, build: Callable[[], tuple[Any, Any, Any, Any]] | None = None) -> int:
    """``python -m core.archive_worker backfill``: archive every completed reel that has none yet.

    ``build`` returns ``(settings, session_factory, store, client)`` (tests); by default they are built
    from the settings through :mod:`core.runtime`. Exit code 0 when every reel was archived, 1 otherwise.
    """
    parser = argparse.ArgumentParser(prog="python -m core.archive_worker",
                                     description="Archive finished videos out of HeyGen.")
    parser.add_argument("command", choices=["backfill"], help="backfill: archive every completed reel without one")
    parser.parse_args(argv)
    from tqdm import tqdm

    settings, factory, store, client = (build or _build)()
    bar = tqdm(total=0, unit="reel", desc="Archiving", file=sys.stderr)

    def show(done: int, total: int, outcome: ArchiveOutcome) -> None:
        bar.total = total
        bar.set_postfix_str(f"reel {outcome.reel_id}: {outcome.state}")
        bar.update(1)

    outcomes = backfill(factory, store, client, holder="backfill", timeout_s=settings.archive_timeout_s,
                        progress=show)
    bar.close()
    failed = [o for o in outcomes if o.state == "failed"]
    for outcome in failed:
        print(f"reel {outcome.reel_id}: {outcome.reason}", file=sys.stderr)
    print(f"{len(outcomes) - len(failed)} archived, {len(failed)} failed.")
    return 1 if failed else 0


def _build() -> tuple[Any, Any, Any, Any]:  # pragma: no cover - wiring, exercised by hand
    from core.config import load_settings
    from core.runtime import build_runtime

    runtime = build_runtime(load_settings(), start_worker=False)
    return runtime.settings, runtime.session_factory, archive_store_of(runtime), runtime.client


def archive_store_of(runtime: Any) -> ArchiveStore:
    """The runtime's archive store (built from its settings)."""
    from core.archive_store import build_store

    return getattr(runtime, "archive_store", None) or build_store(runtime.settings)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
