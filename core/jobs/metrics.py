"""Prometheus metrics of one process, through prometheus-client.

A :class:`Metrics` owns its own :class:`~prometheus_client.CollectorRegistry` (built once per process by the
runtime and passed to the HeyGen client, worker and webhook receiver; tests build their own). Two kinds:

- **Counted here** as things happen in this process: HeyGen requests by endpoint template, method and status
  code (``reelstudio_heygen_requests_total``), 429s (``…_rate_limited_total``) and retries (``…_retries_total``)
  including those the transport retried on its own, idempotent replays, webhook deliveries by result, worker
  cycle duration, archive bytes and failures, and whether HeyGen answered the last call.
- **Read from the database** at each scrape (:meth:`Metrics.watch_database`), so every replica reports the
  same truth and nothing is lost on restart: reels by status, queue depth, reels in flight per account, the
  age of the oldest rendering reel, the render-time histogram (submission → completed, from each attempt's
  ``render_seconds``) and the worker lease holder; with :meth:`Metrics.watch_readiness`, also
  ``reelstudio_ready``.

Archiving calls ``metrics.archive_bytes.inc(n_bytes)`` after each stored file and
``metrics.archive_failures.labels(reason="upload").inc()`` (``reason`` a short code) when one fails.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from core.models import ACTIVE_STATUSES, REEL_STATUSES, Reel, ReelAttempt, WorkerLease, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Content type of :meth:`Metrics.exposition` (Prometheus text format 0.0.4)."""

RENDER_BUCKETS_S = (30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
"""Upper bounds of the render-time histogram, in seconds (HeyGen renders take minutes, sometimes 20+)."""

CYCLE_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds of the worker-cycle histogram, in seconds."""

_FIXED_SEGMENTS = {"v3", "videos", "statuses", "batches", "voices", "speech", "avatars", "looks", "users", "me",
                   "webhooks", "endpoints", "event-types", "events", "rotate-secret", "assets"}
_RENDERING = ("pending", "processing")


def endpoint_template(path: str) -> str:
    """The endpoint label of a HeyGen path: ids become ``{id}`` (``/v3/videos/abc`` → ``/v3/videos/{id}``)."""
    path = path.split("?", 1)[0]
    segments = [s if s in _FIXED_SEGMENTS else "{id}" for s in path.strip("/").split("/") if s]
    return "/" + "/".join(segments)


class Metrics:
    """The metric objects of one process and their registry (see the module docstring for names).

    Args:
        account: the label of the HeyGen account this process uses (``sandbox`` or ``live`` today).
    """

    def __init__(self, account: str = "default") -> None:
        self.account = account
        self.registry = CollectorRegistry()
        r = self.registry
        self.heygen_requests = Counter("reelstudio_heygen_requests", "HeyGen HTTP responses received.",
                                       ["endpoint", "method", "status_code"], registry=r)
        self.heygen_rate_limited = Counter("reelstudio_heygen_rate_limited",
                                           "HeyGen 429 answers, including those retried.", ["endpoint"], registry=r)
        self.heygen_retries = Counter("reelstudio_heygen_retries", "HeyGen requests sent again.",
                                      ["endpoint", "reason"], registry=r)
        self.heygen_network_errors = Counter("reelstudio_heygen_network_errors",
                                             "HeyGen calls that got no answer at all.", ["endpoint"], registry=r)
        self.idempotent_replays = Counter("reelstudio_heygen_idempotent_replays",
                                          "HeyGen answers replayed for a repeated Idempotency-Key.", registry=r)
        self.heygen_reachable = Gauge("reelstudio_heygen_reachable",
                                      "1 when the last HeyGen call got an HTTP answer, 0 when it got none.",
                                      registry=r)
        self.heygen_reachable.set(1)
        self.heygen_answered = True  # the last HeyGen call got an HTTP answer (also before any call)
        self.webhook_deliveries = Counter("reelstudio_webhook_deliveries", "HeyGen webhook deliveries by result.",
                                          ["result"], registry=r)
        self.worker_cycle = Histogram("reelstudio_worker_cycle_seconds", "Duration of one worker cycle.",
                                      buckets=CYCLE_BUCKETS_S, registry=r)
        self.archive_bytes = Counter("reelstudio_archive_bytes", "Bytes written to the archive.", registry=r)
        self.archive_failures = Counter("reelstudio_archive_failures", "Archive writes that failed.",
                                        ["reason"], registry=r)
        self._lock = threading.Lock()
        self._db_collector: Collector | None = None
        self._ready_collector: Collector | None = None

    # -- HeyGen ----------------------------------------------------------------------------------

    def observe_heygen(self, method: str, path: str, status: int | None, *,
                       retried_statuses: Sequence[int | None] = (), replayed: bool = False) -> None:
        """Count one HeyGen exchange: the final ``status`` (``None``: no answer) and the answers the transport
        retried before it (``retried_statuses``; ``None`` for a connection error)."""
        endpoint = endpoint_template(path)
        for earlier in retried_statuses:
            self._count_status(endpoint, method, earlier)
            self.heygen_retries.labels(endpoint, _retry_reason(earlier)).inc()
        self._count_status(endpoint, method, status)
        if replayed:
            self.idempotent_replays.inc()
        self.heygen_answered = status is not None
        self.heygen_reachable.set(1 if self.heygen_answered else 0)

    def observe_heygen_retry(self, method: str, path: str, reason: str) -> None:
        """Count a request the client itself sends again (an idempotent ``POST`` after 5xx or 409)."""
        self.heygen_retries.labels(endpoint_template(path), reason).inc()

    def _count_status(self, endpoint: str, method: str, status: int | None) -> None:
        if status is None:
            self.heygen_network_errors.labels(endpoint).inc()
            return
        self.heygen_requests.labels(endpoint, method.upper(), str(status)).inc()
        if status == 429:
            self.heygen_rate_limited.labels(endpoint).inc()

    # -- database-derived ------------------------------------------------------------------------

    def watch_database(self, session_factory: Callable[[], Any], *, lease_name: str = "worker",
                       lease_seconds: float = 30.0, holder: Callable[[], str | None] | None = None) -> None:
        """Report the reel and lease gauges read from ``session_factory``'s database at every scrape (once).

        ``holder`` returns this process's worker name (for ``reelstudio_worker_lease_held``), or ``None``.
        """
        with self._lock:
            if self._db_collector is None:
                self._db_collector = _DatabaseCollector(session_factory, self.account, lease_name, holder)
                self.registry.register(self._db_collector)

    def serve(self, port: int, host: str = "127.0.0.1") -> Any:
        """Serve ``GET /metrics`` on ``host:port`` (0 = a free port) in a daemon thread (embedded mode).

        Returns the WSGI server: ``server.server_port`` is the bound port, ``server.shutdown()`` stops it.

        Raises:
            OSError: the port cannot be bound.
        """
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server

    def watch_readiness(self, check: Callable[[], Any]) -> None:
        """Report ``reelstudio_ready`` (1/0) from ``check()`` (a :class:`core.jobs.health.Readiness`) at every
        scrape, so an alert can fire on "not ready" without probing ``/readyz`` separately (once)."""
        with self._lock:
            if self._ready_collector is None:
                self._ready_collector = _ReadinessCollector(check)
                self.registry.register(self._ready_collector)

    def exposition(self) -> bytes:
        """Every metric in Prometheus text format (see :data:`CONTENT_TYPE`); database errors raise."""
        return generate_latest(self.registry)


def _retry_reason(status: int | None) -> str:
    if status is None:
        return "network"
    return "rate_limited" if status == 429 else "server_error" if status >= 500 else f"http_{status}"


class _DatabaseCollector(Collector):
    """Gauges and the render-time histogram computed with three aggregate queries per scrape."""

    def __init__(self, session_factory: Callable[[], Any], account: str, lease_name: str,
                 holder: Callable[[], str | None] | None) -> None:
        self.session_factory = session_factory
        self.account = account
        self.lease_name = lease_name
        self.holder = holder

    def describe(self) -> Iterable[Any]:
        return []  # collected lazily: a scrape, not registration, reads the database

    def collect(self) -> Iterable[Any]:
        now = utcnow()
        with self.session_factory() as session:
            counts = dict(session.execute(select(Reel.status, func.count()).group_by(Reel.status)).all())
            oldest = session.execute(select(func.min(Reel.submitted_at))
                                     .where(Reel.status.in_(_RENDERING))).scalar()
            render = session.execute(select(func.count(ReelAttempt.render_seconds),
                                            func.coalesce(func.sum(ReelAttempt.render_seconds), 0.0),
                                            *[func.sum(case((ReelAttempt.render_seconds <= b, 1), else_=0))
                                              for b in RENDER_BUCKETS_S])).one()
            lease = session.get(WorkerLease, self.lease_name)
        yield from self._reel_gauges(counts, oldest, now)
        yield _render_histogram(render)
        yield from self._lease_gauges(lease, now)

    def _reel_gauges(self, counts: dict[str, int], oldest: datetime | None, now: datetime) -> Iterable[Any]:
        reels = GaugeMetricFamily("reelstudio_reels", "Reels by status.", labels=["status"])
        for status in REEL_STATUSES:
            reels.add_metric([status], counts.get(status, 0))
        yield reels
        yield GaugeMetricFamily("reelstudio_queue_depth", "Reels queued and not yet submitted.",
                                value=counts.get("queued", 0))
        in_flight = GaugeMetricFamily("reelstudio_in_flight_reels", "Reels submitting or rendering at HeyGen.",
                                      labels=["account"])
        in_flight.add_metric([self.account], sum(counts.get(s, 0) for s in ACTIVE_STATUSES))
        yield in_flight
        age = (now - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily("reelstudio_oldest_rendering_seconds",
                                "Seconds since the longest-rendering reel was submitted (0 when none).",
                                value=max(0.0, age))

    def _lease_gauges(self, lease: WorkerLease | None, now: datetime) -> Iterable[Any]:
        live = lease is not None and lease.holder and lease.expires_at is not None and lease.expires_at > now
        holder = GaugeMetricFamily("reelstudio_worker_lease_holder",
                                   "1 for the worker holding the lease (no sample when none holds it).",
                                   labels=["holder"])
        if live:
            holder.add_metric([lease.holder], 1)
        yield holder
        if self.holder is not None:
            mine = self.holder()
            yield GaugeMetricFamily("reelstudio_worker_lease_held", "1 when this process's worker holds the lease.",
                                    value=1 if live and mine and lease.holder == mine else 0)


class _ReadinessCollector(Collector):
    """``reelstudio_ready``: 1 when every readiness check passes, computed at scrape time."""

    def __init__(self, check: Callable[[], Any]) -> None:
        self.check = check

    def describe(self) -> Iterable[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        yield GaugeMetricFamily("reelstudio_ready", "1 when /readyz would answer 200.",
                                value=1 if self.check().ready else 0)


def _render_histogram(row: Sequence[Any]) -> HistogramMetricFamily:
    total, seconds, *cumulative = row
    buckets = [(f"{b:g}", int(c or 0)) for b, c in zip(RENDER_BUCKETS_S, cumulative, strict=True)]
    buckets.append(("+Inf", int(total or 0)))
    return HistogramMetricFamily("reelstudio_render_seconds", "Seconds from submission to completed, per attempt.",
                                 buckets=buckets, sum_value=float(seconds or 0.0))
