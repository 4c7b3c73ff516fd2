"""The worker: submits queued reels to HeyGen and follows them until they finish.

One cycle (:meth:`Worker.run_once`):

1. **Lease.** Only the holder of the ``worker_leases`` row ``"worker"`` acts. Acquire or
   renew with ``UPDATE … WHERE name='worker' AND (holder = me OR expires_at < now)``;
   a dead holder's lease expires after ``settings.lease_seconds`` and another worker
   takes over. The lease is renewed at the start of each cycle, and again before a
   ``POST`` or a status call only when a third of the lease time has passed since the
   last renewal: until it expires nobody else can take it, so a worker whose lease is
   not at least two thirds fresh renews (or stops) before it sends anything.
2. **Submit.** Reels left in ``submitting`` (a crash between ``POST /v3/videos`` and
   saving the video_id) are sent again with the SAME Idempotency-Key, so HeyGen
   replays the first response: same video_id, never a second paid video. Then queued
   reels are claimed in queue order (:mod:`core.jobs.queue`: interactive launches first,
   batch rows fairly by owner), in one transaction, with ``UPDATE … SET
   status='submitting' WHERE id IN (…) AND status='queued'`` within
   ``settings.heygen_concurrency`` (submitting + pending + processing) and
   ``settings.per_owner_cap`` (0 = no cap).
3. **Poll.** Active reels with a video_id are read with ``GET /v3/videos/statuses``, 100
   ids per call (⌈active / 100⌉ calls); a finished one is read once more with
   ``GET /v3/videos/{id}`` for links or the failure reason.
4. **Archive.** With an :class:`~core.jobs.archiver.Archiver` attached, completed reels (those
   that finished in this very cycle included) are handed to its threads, which copy their files
   out of HeyGen; the cycle does not wait for the copies.

Several HeyGen accounts (``accounts``, :class:`core.jobs.accounts.Accounts`): each workspace's
reels are sent, polled and finished only with its own client (its own key); the concurrency cap,
the ⌈active / 100⌉ status calls and the catalog are per account, and an account that answers 401,
402 or 429 stops only its own submissions for the cycle (or until ``Retry-After``).

Errors of ``POST /v3/videos``: 429 → back to ``queued`` with the same key, no submission for that
account until ``Retry-After`` has passed; 5xx, network errors, 409 ``request_in_progress`` →
stays ``submitting`` and is sent again with the same key next cycle; other 4xx
(invalid request, insufficient credit, authentication, permission) → ``failed`` with
HeyGen's code and one sentence. A workspace without a HeyGen key in a live install → its queued
reels fail with ``no_api_key`` (they are never sent with another workspace's key).

Run standalone with ``python -m core.jobs [--webhook-port P]``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from core.access.actor import worker_actor
from core.config import Settings
from core.heygen.errors import (
    HeyGenError,
    MalformedResponseError,
    NetworkError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
)
from core.jobs import lease, lifecycle
from core.jobs.metrics import Metrics
from core.jobs.queue import active_batch_by_owner, batch_slots, queue_order
from core.logs import log_context
from core.models import ACTIVE_STATUSES, Reel, ReelAttempt, ReelEvent

log = logging.getLogger(__name__)

#: ``GET /v3/videos/statuses`` accepts at most this many ids per call.
STATUS_BATCH = 100
#: Errors after which the same request is sent again with the same Idempotency-Key.
RESUBMIT_ERRORS = (ServerError, NetworkError, RequestInProgressError, MalformedResponseError)
#: HeyGen remembers an Idempotency-Key for 24 h; a reel still unconfirmed this long after its first
#: send is not sent again (a repeat could make a second, paid video). One hour of margin.
IDEMPOTENCY_WINDOW_S = 23 * 3600
UNCONFIRMED_CODE = "submission_unconfirmed"
UNCONFIRMED_MESSAGE = ("HeyGen never confirmed this reel within 24 hours, so it was not sent again; check the "
                       "HeyGen dashboard for the video before retrying, so it is not paid for twice.")
#: Errors that make every other submission this cycle fail the same way.
_STOP_SUBMITTING = ("unauthorized", "forbidden", "insufficient_credit")


@dataclass
class CycleReport:
    """What one :meth:`Worker.run_once` did.

    ``acted``: this worker held the lease. ``submitted``: reels that got a video_id;
    ``resubmit``: reels left ``submitting`` for another try with the same key;
    ``requeued``: reels sent back to ``queued`` after a 429; ``polled_calls``: calls to
    ``GET /v3/videos/statuses``; ``completed``/``failed``: reels that finished this
    cycle; ``archiving``: archive copies started; ``errors``: one line per problem (no secrets).
    """

    acted: bool = False
    submitted: int = 0
    resubmit: int = 0
    requeued: int = 0
    polled: int = 0
    polled_calls: int = 0
    completed: int = 0
    failed: int = 0
    archiving: int = 0
    errors: list[str] = field(default_factory=list)


class Worker:
    """Submits queued reels and polls active ones; one per process, many processes allowed.

    Args:
        session_factory: sessionmaker bound to the migrated database.
        client: a :class:`core.heygen.HeyGenClient` (its own, not shared with pages).
        settings: heygen_concurrency, per_owner_cap, poll_interval_s, lease_seconds.
        name: lease holder id (default ``host:pid:random``).
        index_provider: ``() -> CatalogIndex`` for :func:`core.reels.body.build_studio_body`;
            default loads the catalog through ``client`` once.
        clock: ``() -> Unix seconds``; injectable for lease and grace-period tests.
        metrics: where cycle durations are recorded (:class:`core.jobs.metrics.Metrics`), or ``None``.
        accounts: the per-workspace clients (:class:`core.jobs.accounts.Accounts`); ``None`` sends every
            reel with ``client`` under one ``heygen_concurrency`` cap (one account).

    Attributes:
        archiver: an :class:`~core.jobs.archiver.Archiver` (attached by the runtime) or ``None``.
    """

    def __init__(
        self,
        session_factory: sessionmaker,
        client: Any,
        settings: Settings,
        *,
        name: str | None = None,
        index_provider: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        accounts: Any = None,
    ) -> None:
        self.session_factory = session_factory
        self.metrics = metrics
        self.client = client
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        #: Who this worker is in reel events (its lease holder name).
        self.actor = worker_actor(self.name)
        self.clock = clock
        self._index_provider = index_provider
        self.accounts = accounts
        self._index: dict[int | None, Any] = {}  # catalog index per account (private voices and looks differ)
        self._not_before: dict[int | None, float] = {}  # per account: no submissions before this Unix time (429)
        self._lease_renewed = None  # clock() of the last successful acquire_lease, None = not held
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.archiver: Any = None

    # ------------------------------------------------------------------ loop

    def start(self) -> None:
        """Start the daemon thread that runs :meth:`run_once` every ``settings.poll_interval_s`` seconds."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"reel-worker-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop: finish the current step, wait up to ``timeout_s`` seconds for it, give up the lease.

        The current step is the HeyGen request in flight (one ``POST /v3/videos`` or one status
        call) and the write of its result; claimed reels not yet sent go back to ``queued`` with
        their key, and nothing more is sent (:meth:`_hold_lease` is False once stopping). The
        lease is released at once, so a standby takes over at its next wake-up, not after
        ``lease_seconds``.
        """
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        self._thread = None
        if self.archiver is not None:
            self.archiver.close()
        try:
            self.release_lease()
        except Exception:  # the database may already be gone at shutdown
            log.debug("lease release failed", exc_info=True)

    @property
    def running(self) -> bool:
        """True while the loop thread is alive."""
        return bool(self._thread and self._thread.is_alive())

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called (the current step finishes, nothing new starts)."""
        return self._stop.is_set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            acted = False
            try:
                acted = self.run_once().acted
            except Exception:
                log.exception("worker cycle failed")
            self._stop.wait(self.next_wait_s(acted))

    def next_wait_s(self, acted: bool) -> float:
        """Seconds until the next cycle: ``poll_interval_s``, or less for a standby whose holder's lease
        expires sooner (it wakes 50 ms after the expiry, so a crashed holder is replaced within
        ``lease_seconds`` of its last renewal rather than ``lease_seconds`` + one poll)."""
        wait = max(self.settings.poll_interval_s, 0.05)
        if acted:
            return wait
        try:
            left = lease.seconds_left(self.session_factory, datetime.fromtimestamp(self.clock(), UTC))
        except Exception:  # the database is unreachable: try again after a normal poll
            log.debug("lease read failed", exc_info=True)
            return wait
        return wait if left is None else min(wait, max(left, 0.0) + 0.05)

    # ------------------------------------------------------------------ cycle

    def run_once(self) -> CycleReport:
        """One cycle: lease, submit, poll. Returns a :class:`CycleReport` (``acted=False`` without lease)."""
        report = CycleReport()
        started = time.perf_counter()
        self._warm_index()  # before the lease: a slow first catalog load must not outlive it
        if not self.acquire_lease():
            return report
        report.acted = True
        self._submit_phase(report)
        if self._hold_lease():
            self._poll_phase(report)
        if self.archiver is not None and self._hold_lease():
            report.archiving = self.archiver.schedule()
        if self.metrics is not None:
            self.metrics.worker_cycle.observe(time.perf_counter() - started)
        return report

    def _account(self, workspace_id: int | None) -> int | None:
        """The account key of a workspace: itself with ``accounts``, else ``None`` (one account)."""
        return workspace_id if self.accounts is not None else None

    def _client(self, workspace_id: int | None) -> Any:
        """The client that may act for ``workspace_id``'s reels, or ``None`` (no key in a live install)."""
        if self.accounts is None:
            return self.client
        return self.accounts.client_for(workspace_id)

    def _cap(self, account: int | None) -> int:
        if self.accounts is None or account is None:
            return self.settings.heygen_concurrency
        return self.accounts.concurrency(account)

    def _warm_index(self) -> None:
        """Load the catalog index once, outside the lease (errors are retried when a body is built)."""
        if self._index_provider is not None or self._index.get(None) is not None:
            return
        try:
            self._index_for_body(None)
        except Exception as exc:  # the catalog is unreachable: _submit reports it per reel
            log.warning("could not load the catalog yet: %s", type(exc).__name__)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # ------------------------------------------------------------------ lease

    def acquire_lease(self) -> bool:
        """Take or renew the lease until now + ``settings.lease_seconds``; True when this worker holds it
        (:func:`core.jobs.lease.acquire`)."""
        started = self.clock()
        self._lease_renewed = None
        if self._stop.is_set():
            return False
        held = lease.acquire(self.session_factory, self.name, datetime.fromtimestamp(started, UTC),
                             self.settings.lease_seconds)
        if held:
            self._lease_renewed = started
        return held

    def _hold_lease(self) -> bool:
        """True when this worker holds the lease with at least two thirds of it left; renews it otherwise.

        No database round trip while less than ``lease_seconds / 3`` seconds have passed since the
        last successful :meth:`acquire_lease` (nobody else can take the lease before it expires);
        else :meth:`acquire_lease`.
        """
        if self._stop.is_set():
            return False
        renewed = self._lease_renewed
        if renewed is not None and 0 <= self.clock() - renewed < self.settings.lease_seconds / 3:
            return True
        return self.acquire_lease()

    def release_lease(self) -> None:
        """Give up the lease if this worker holds it (lets another worker act at once)."""
        self._lease_renewed = None
        lease.release(self.session_factory, self.name)

    # ------------------------------------------------------------------ submission

    def _submit_phase(self, report: CycleReport) -> None:
        now = self.clock()
        blocked = {account for account, until in self._not_before.items() if now < until}
        with self.session_factory() as session:
            leftovers = session.scalars(
                select(Reel).where(Reel.status == "submitting").order_by(Reel.queued_at, Reel.id)
            ).all()
            for reel in leftovers:
                if self._stop.is_set():
                    return
                if self._account(reel.workspace_id) in blocked:
                    continue
                if self._outside_idempotency_window(session, reel):
                    lifecycle.fail_reel(session, reel, UNCONFIRMED_CODE, UNCONFIRMED_MESSAGE, actor=self.actor,
                                         expected=("submitting",), now=self._now())
                    session.commit()
                    report.failed += 1
                    continue
                if not self._submit(session, reel, report, blocked):
                    return
            claimed = self._claim(session, blocked)
            for n, reel in enumerate(claimed):
                if self._stop.is_set():  # stopping: the rest go back to the queue with their keys
                    self._unclaim(session, claimed[n:], report)
                    return
                if self._account(reel.workspace_id) in blocked:  # its account stopped earlier this cycle
                    self._unclaim(session, [reel], report)
                    continue
                if not self._submit(session, reel, report, blocked):
                    self._unclaim(session, claimed[n + 1:], report)
                    return

    def _outside_idempotency_window(self, session: Session, reel: Reel) -> bool:
        """True when this attempt was first claimed for sending more than :data:`IDEMPOTENCY_WINDOW_S` ago.

        The first claim of the current attempt (its earliest ``→ submitting`` event) bounds the first
        ``POST /v3/videos`` from below; only reels left in ``submitting`` are checked, so it is rare.
        """
        attempt_queued = select(ReelAttempt.queued_at).where(
            ReelAttempt.reel_id == reel.id, ReelAttempt.number == reel.attempt).scalar_subquery()
        first_claim = session.scalar(
            select(func.min(ReelEvent.at)).where(ReelEvent.reel_id == reel.id, ReelEvent.to_status == "submitting",
                                                 ReelEvent.at >= attempt_queued))
        if first_claim is None:
            return False
        if first_claim.tzinfo is None:
            first_claim = first_claim.replace(tzinfo=UTC)
        return (self._now() - first_claim).total_seconds() > IDEMPOTENCY_WINDOW_S

    def _unclaim(self, session: Session, reels: list[Reel], report: CycleReport) -> None:
        """Give claimed reels that were not sent back to ``queued`` (still cancellable; same key)."""
        if not reels or "lease lost" in report.errors:  # the new holder sends them as leftovers
            return
        for reel in reels:
            lifecycle.transition(session, reel, "queued", actor=self.actor, expected=("submitting",),
                                  values={"claimed_by": None}, now=self._now(),
                                  detail="not sent this cycle; back in the queue with the same key")
        session.commit()

    def _claim(self, session: Session, blocked: set[int | None] = frozenset()) -> list[Reel]:
        """Claim queued reels (``queued → submitting``) in queue order, within the caps; one commit.

        Candidates come per account with room (:meth:`_candidates`, skipping accounts in ``blocked``) in
        :func:`core.jobs.queue.queue_order` (interactive first, then batch rows fairly by owner), within
        each account's concurrency cap and ``per_owner_cap``; batch reels get at most
        :func:`core.jobs.queue.batch_slots` of the slots, so a launch from Compose always finds one. Then
        claims them with :func:`core.jobs.lifecycle.claim_queued` (one conditional UPDATE, attempts and
        events in bulk). Returns the claimed reels, scenes loaded, in queue order.
        """
        active_rows = session.execute(
            select(Reel.workspace_id, Reel.owner, func.count()).where(Reel.status.in_(ACTIVE_STATUSES))
            .group_by(Reel.workspace_id, Reel.owner)
        ).all()
        active: dict[str, int] = {}
        in_flight: dict[int | None, int] = {}
        for workspace_id, owner, count in active_rows:
            active[owner] = active.get(owner, 0) + count
            account = self._account(workspace_id)
            in_flight[account] = in_flight.get(account, 0) + count
        candidates = self._candidates(session, in_flight, blocked)
        priority = dict(session.execute(select(Reel.id, Reel.priority).where(
            Reel.id.in_([c[0] for c in candidates]))).all()) if candidates else {}
        cap = self.settings.per_owner_cap
        batch_room = batch_slots(self.settings.heygen_concurrency) - sum(active_batch_by_owner(session).values())
        chosen: list[int] = []
        for reel_id, owner, workspace_id in candidates:
            account = self._account(workspace_id)
            if in_flight.get(account, 0) >= self._cap(account):
                continue
            if cap and active.get(owner, 0) >= cap:
                continue
            if priority.get(reel_id) == "batch":
                if batch_room <= 0:  # the last slot is kept for launches from Compose
                    continue
                batch_room -= 1
            chosen.append(reel_id)
            active[owner] = active.get(owner, 0) + 1
            in_flight[account] = in_flight.get(account, 0) + 1
        if not chosen:
            return []
        claimed = lifecycle.claim_queued(session, chosen, actor=self.actor, now=self._now())
        session.commit()
        if not claimed:
            return []
        reels = session.scalars(
            select(Reel).where(Reel.id.in_(claimed)).options(selectinload(Reel.scenes))
            .execution_options(populate_existing=True)
        ).all()
        order = {reel_id: n for n, reel_id in enumerate(chosen)}
        return sorted(reels, key=lambda reel: order[reel.id])

    def _candidates(self, session: Session, in_flight: dict[int | None, int],
                    blocked: set[int | None]) -> list[tuple[int, str, int]]:
        """Queued ``(id, owner, workspace_id)`` oldest first: per account with room, a few times its room."""
        def oldest(limit: int, *where: Any) -> list[tuple[int, str, int]]:
            return [tuple(row) for row in session.execute(
                select(Reel.id, Reel.owner, Reel.workspace_id).where(Reel.status == "queued", *where)
                .order_by(Reel.priority == "batch", Reel.queued_at, Reel.id).limit(limit)).all()]

        if self.accounts is None:
            room = self._cap(None) - in_flight.get(None, 0)
            return [] if room <= 0 or None in blocked else self._in_queue_order(session, oldest(max(room * 5, 50)))
        waiting = session.scalars(select(Reel.workspace_id).where(Reel.status == "queued").distinct()).all()
        rows: list[tuple[int, str, int]] = []
        for workspace_id in waiting:
            room = self._cap(workspace_id) - in_flight.get(workspace_id, 0)
            if room <= 0 or workspace_id in blocked:
                continue
            if self._client(workspace_id) is None:
                self._fail_keyless(session, workspace_id)
                continue
            rows += oldest(max(room * 5, 50), Reel.workspace_id == workspace_id)
        return self._in_queue_order(session, rows)

    def _in_queue_order(self, session: Session, rows: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
        """``rows`` sorted by :func:`core.jobs.queue.queue_order` (interactive first, batch rows fair by owner)."""
        if not rows:
            return rows
        place = {item.id: n for n, item in enumerate(queue_order(session, limit=max(len(rows), 50)))}
        return sorted(rows, key=lambda r: (place.get(r[0], len(place)), r[0]))

    def _fail_keyless(self, session: Session, workspace_id: int) -> None:
        """Fail the queued reels of a workspace that has no HeyGen key (never send them with another key)."""
        message = "This workspace has no HeyGen API key; a workspace admin sets it on Settings, then retry."
        for reel in session.scalars(select(Reel).where(Reel.workspace_id == workspace_id, Reel.status == "queued")):
            lifecycle.fail_reel(session, reel, "no_api_key", message, actor=self.actor, expected=("queued",),
                                 now=self._now())
        session.commit()

    def _index_for_body(self, workspace_id: int | None, *, refresh: bool = False) -> Any:
        """The catalog index for request bodies: ``index_provider()``, else the catalog of the reel's account.

        ``refresh=True`` re-reads the catalog past the HTTP cache (a look or voice may be new).
        """
        if self._index_provider is not None:
            return self._index_provider()
        account = self._account(workspace_id)
        if self._index.get(account) is None or refresh:
            from core.catalog.store import load_catalog

            self._index[account] = load_catalog(self._client(workspace_id), refresh=refresh).index
        return self._index[account]

    def _body(self, reel: Reel) -> dict[str, Any]:
        """The ``POST /v3/videos`` body; on a validation problem retries once with a fresh catalog.

        Raises:
            core.reels.validation.ReelValidationError: the reel is not valid against the current catalog.
        """
        from core.reels.body import build_studio_body
        from core.reels.validation import ReelValidationError

        callback_id = f"reel-{reel.id}-{reel.attempt}"
        try:
            return build_studio_body(reel, self._index_for_body(reel.workspace_id), callback_id=callback_id)
        except ReelValidationError:
            if self._index_provider is not None:
                raise
            return build_studio_body(reel, self._index_for_body(reel.workspace_id, refresh=True),
                                     callback_id=callback_id)

    def _submit(self, session: Session, reel: Reel, report: CycleReport, blocked: set[int | None]) -> bool:
        """``POST /v3/videos`` for one ``submitting`` reel; False when submissions should stop this cycle.

        An answer that stops the reel's account (429, 401, 402, 403) adds the account to ``blocked``.
        """
        with log_context(reel_id=reel.id, attempt=reel.attempt, actor=self.name, workspace=reel.workspace_id):
            go_on = self._submit_reel(session, reel, report)
        if not go_on and "lease lost" not in report.errors:
            blocked.add(self._account(reel.workspace_id))
            return True
        return go_on

    def _submit_reel(self, session: Session, reel: Reel, report: CycleReport) -> bool:
        from core.reels.validation import ReelValidationError

        try:
            body = self._body(reel)
        except ReelValidationError as exc:  # the catalog changed since launch (a look or voice is gone)
            first = exc.problems[0].message if exc.problems else str(exc)
            lifecycle.fail_reel(session, reel, "invalid_reel", first, actor=self.actor, expected=("submitting",),
                                 now=self._now())
            session.commit()
            report.failed += 1
            return True
        except Exception as exc:  # the catalog is unreachable: try again next cycle
            log.warning("could not build the request for reel %s: %s", reel.id, type(exc).__name__)
            session.rollback()
            report.errors.append(f"reel {reel.id}: {type(exc).__name__}")
            return True
        if not self._hold_lease():  # the cycle outlived the lease: the new holder re-sends with the same key
            session.rollback()
            report.errors.append("lease lost")
            return False
        client = self._client(reel.workspace_id)
        if client is None:
            session.rollback()
            return False
        try:
            created = client.create_video(body, idempotency_key=reel.idempotency_key)
        except RateLimitError as exc:
            log.info("HeyGen is busy; reel %s goes back to the queue", reel.id)
            self._requeue_after_rate_limit(session, reel, exc, report)
            return False
        except RESUBMIT_ERRORS as exc:
            lifecycle.note(session, reel, actor=self.actor, now=self._now(),
                            detail=f"{exc.code}: {exc.user_message} Will send again with the same key.")
            session.commit()
            report.resubmit += 1
            report.errors.append(f"reel {reel.id}: {exc.code}")
            return True
        except HeyGenError as exc:
            log.warning("HeyGen refused reel %s: %s", reel.id, exc.code)
            lifecycle.fail_reel(session, reel, exc.code, exc.user_message, actor=self.actor,
                                 expected=("submitting",), now=self._now())
            session.commit()
            report.failed += 1
            report.errors.append(f"reel {reel.id}: {exc.code}")
            return exc.code not in _STOP_SUBMITTING
        self._store_video_id(session, reel, created)
        report.submitted += 1
        return True

    def _store_video_id(self, session: Session, reel: Reel, created: Any) -> None:
        """Save HeyGen's video_id: ``submitting → pending`` and the attempt's video_id. Commits."""
        now = self._now()
        lifecycle.transition(
            session, reel, "pending", actor=self.actor, expected=("submitting",), now=now,
            values={"video_id": created.video_id, "heygen_status": created.status, "submitted_at": now},
            attempt_values={"video_id": created.video_id, "submitted_at": now},
            detail=f"HeyGen accepted video {created.video_id}",
        )
        session.commit()
        with log_context(video_id=created.video_id):
            log.info("reel %s submitted as HeyGen video %s", reel.id, created.video_id)

    def _requeue_after_rate_limit(self, session: Session, reel: Reel, exc: RateLimitError,
                                  report: CycleReport) -> None:
        wait_s = exc.retry_after if exc.retry_after is not None else self.settings.poll_interval_s
        self._not_before[self._account(reel.workspace_id)] = self.clock() + max(wait_s, 0.0)
        lifecycle.transition(session, reel, "queued", actor=self.actor, expected=("submitting",),
                              values={"claimed_by": None}, now=self._now(),
                              detail=f"HeyGen is busy; trying again in {wait_s:.0f} s with the same key")
        session.commit()
        report.requeued += 1

    # ------------------------------------------------------------------ polling

    def _poll_phase(self, report: CycleReport) -> None:
        with self.session_factory() as session:
            rows = session.execute(
                select(Reel.id, Reel.video_id, Reel.workspace_id).where(Reel.status.in_(("pending", "processing")),
                                                                        Reel.video_id.is_not(None)).order_by(Reel.id)
            ).all()
            report.polled = len(rows)
            by_account: dict[int | None, dict[str, tuple[int, int]]] = {}
            for reel_id, video_id, workspace_id in rows:
                by_account.setdefault(self._account(workspace_id), {})[video_id] = (reel_id, workspace_id)
            for by_video in by_account.values():
                if self._stop.is_set():
                    return
                if not self._poll_account(session, by_video, report):
                    return

    def _poll_account(self, session: Session, by_video: dict[str, tuple[int, int]], report: CycleReport) -> bool:
        """⌈active / 100⌉ status calls with one account's client; False when the lease was lost."""
        client = self._client(next(iter(by_video.values()))[1])
        if client is None:
            return True
        ids = list(by_video)
        for start in range(0, len(ids), STATUS_BATCH):
            if self._stop.is_set():
                return True
            if not self._hold_lease():  # another worker holds it now
                report.errors.append("lease lost")
                return False
            chunk = ids[start:start + STATUS_BATCH]
            try:
                items = client.get_video_statuses(chunk)
            except HeyGenError as exc:  # this account fails; the others are polled all the same
                report.errors.append(f"statuses: {exc.code}")
                continue
            finally:
                report.polled_calls += 1
            for item in items:
                found = by_video.get(item.video_id or "")
                if found is not None:
                    self._apply_status(session, found[0], item, report)
        return True

    def _apply_status(self, session: Session, reel_id: int, item: Any, report: CycleReport) -> None:
        reel = session.get(Reel, reel_id)
        if reel is None:
            return
        with log_context(reel_id=reel.id, video_id=reel.video_id, attempt=reel.attempt, actor=self.name):
            self._apply_reel_status(session, reel, item, report)

    def _apply_reel_status(self, session: Session, reel: Reel, item: Any, report: CycleReport) -> None:
        reel_id = reel.id
        ours = lifecycle.map_heygen_status(item.status)
        try:
            if ours in ("completed", "failed"):
                self._finish(session, reel, report)
            elif ours == "processing" and reel.status == "pending":
                lifecycle.transition(session, reel, "processing", actor=self.actor, expected=("pending",),
                                      values={"heygen_status": item.status}, now=self._now(),
                                      detail="HeyGen is rendering")
            elif ours == "not_found":
                self._handle_not_found(session, reel, report)
            session.commit()
        except HeyGenError as exc:
            session.rollback()
            report.errors.append(f"reel {reel_id}: {exc.code}")

    def _finish(self, session: Session, reel: Reel, report: CycleReport) -> None:
        """``GET /v3/videos/{id}`` once and store the result (links or failure reason)."""
        video = self._client(reel.workspace_id).get_video(reel.video_id)
        if lifecycle.apply_video(session, reel, video, actor=self.actor, now=self._now()):
            log.info("reel %s is %s", reel.id, reel.status)
            if reel.status == "completed":
                report.completed += 1
            elif reel.status == "failed":
                report.failed += 1

    def _handle_not_found(self, session: Session, reel: Reel, report: CycleReport) -> None:
        submitted = reel.submitted_at or reel.queued_at
        if submitted and (self._now() - submitted).total_seconds() < lifecycle.NOT_FOUND_GRACE_S:
            return
        if lifecycle.fail_reel(session, reel, "video_not_found",
                                "HeyGen no longer knows this video; it may have been deleted.",
                                actor=self.actor, expected=("pending", "processing"), now=self._now()):
            report.failed += 1
