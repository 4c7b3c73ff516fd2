"""Fault soak: many reels through real worker processes against a faulty sandbox, with SIGKILLs.

Run the full soak (figures go to docs/reliability.md)::

    python -m tests.reliability.soak --reels 300 --faults 0.2 --kills 5 --db sqlite
    python -m tests.reliability.soak --reels 300 --faults 0.2 --kills 5 --db postgresql

What one run does:

1. A fresh database (SQLite file in a temporary folder, or a private schema on the PostgreSQL
   server of ``TEST_POSTGRES_URL``), migrated.
2. The sandbox in this process with ``--faults`` of the requests to the job endpoints
   (``POST /v3/videos``, ``GET /v3/videos/statuses``, ``GET /v3/videos/{video_id}``) answered
   with an injected fault, split evenly over 429 (``Retry-After: 1``), 500, 502, 503, slow,
   dropped connection and malformed JSON. ``--render-failures`` of the jobs fail at HeyGen
   (``fail_next``), so the failure path is exercised too.
3. ``--reels`` valid drafts (1–5 scenes, real catalog ids), all launched.
4. ``python -m core.jobs`` as a subprocess; ``--kills`` times during the run it is killed with
   SIGKILL and a new one started (which must wait for the dead one's lease to expire).
5. When every reel is terminal (or ``--timeout`` passed) the checks run:

   - every reel is ``completed`` or ``failed``; a failed one has a code and a message;
   - duplicates: ``videos_created`` of the sandbox == reels launched, and no two reels share a
     video_id;
   - lost: every reel's status events chain ``draft → queued → … → terminal`` with only allowed
     steps, the last one equal to the stored status; each reel has exactly one attempt whose
     video_id is the reel's;
   - no unhandled exception in any worker log (``Traceback``, ``worker cycle failed``).

:func:`run_soak` returns a :class:`SoakReport`; the command line prints it as text and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select, text

from core.config import PROJECT_ROOT, SANDBOX_API_KEY
from core.db import make_engine, make_session_factory, migrate, normalise_url
from core.jobs import lifecycle
from core.models import TERMINAL_STATUSES, Reel, ReelAttempt, ReelEvent
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.people import person

#: Real catalog ids (the vendored 2026 catalog): an expressive look and a voice with accents.
AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"
#: Endpoints that carry video jobs; only these get injected faults.
JOB_ENDPOINTS = ("POST /v3/videos", "GET /v3/videos/statuses", "GET /v3/videos/{video_id}")
FAULT_KINDS = ("429", "500", "502", "503", "slow", "drop", "badjson")
#: Status changes a reel may make; anything else in the history is an anomaly.
ALLOWED_STEPS = {
    ("draft", "queued"), ("queued", "submitting"), ("submitting", "queued"), ("submitting", "pending"),
    ("submitting", "failed"), ("submitting", "processing"), ("pending", "processing"),
    ("pending", "completed"), ("pending", "failed"), ("processing", "completed"), ("processing", "failed"),
}
LOG_ALARMS = ("Traceback", "worker cycle failed", " CRITICAL ")
DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class SoakReport:
    """Figures of one soak run (times in seconds)."""

    db: str
    reels: int
    fault_rate: float
    kills_planned: int
    kills_done: int = 0
    completed: int = 0
    failed: int = 0
    failure_codes: dict[str, int] = field(default_factory=dict)
    not_terminal: list[int] = field(default_factory=list)
    failed_without_reason: list[int] = field(default_factory=list)
    videos_created: int = 0
    distinct_video_ids: int = 0
    duplicate_video_ids: int = 0
    lost: list[str] = field(default_factory=list)
    faults_injected: dict[str, int] = field(default_factory=dict)
    job_requests: dict[str, int] = field(default_factory=dict)
    idempotent_replays: int = 0
    resends_same_key: int = 0
    requeued_after_429: int = 0
    worker_processes: int = 0
    takeover_s: list[float] = field(default_factory=list)
    log_alarms: list[str] = field(default_factory=list)
    log_warnings: int = 0
    duration_s: float = 0.0
    timed_out: bool = False

    @property
    def duplicates(self) -> int:
        """Videos HeyGen made beyond one per reel, plus video_ids shared by two reels."""
        return max(0, self.videos_created - self.reels) + self.duplicate_video_ids

    @property
    def ok(self) -> bool:
        """Every promise held: all terminal with reasons, no duplicates, nothing lost, clean logs."""
        return (not self.not_terminal and not self.failed_without_reason and self.duplicates == 0
                and self.videos_created == self.reels and not self.lost and not self.log_alarms
                and not self.timed_out)

    def problems(self) -> list[str]:
        """One line per broken promise (empty when :attr:`ok`)."""
        out = []
        if self.timed_out or self.not_terminal:
            out.append(f"{len(self.not_terminal)} reels not terminal: {self.not_terminal[:10]}")
        if self.failed_without_reason:
            out.append(f"failed without reason: {self.failed_without_reason[:10]}")
        if self.videos_created != self.reels or self.duplicate_video_ids:
            out.append(f"videos_created={self.videos_created} for {self.reels} reels; "
                       f"shared video_ids={self.duplicate_video_ids}")
        out += [f"lost: {line}" for line in self.lost[:10]]
        out += [f"log: {line}" for line in self.log_alarms[:10]]
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {**asdict(self), "duplicates": self.duplicates, "ok": self.ok}

    def summary(self) -> str:
        """The figures as a few lines of text."""
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults_injected.items())) or "none"
        takeover = (f"{min(self.takeover_s):.1f}–{max(self.takeover_s):.1f} s" if self.takeover_s else "n/a")
        return "\n".join([
            f"soak on {self.db}: {self.reels} reels, fault rate {self.fault_rate:.0%} on the job endpoints, "
            f"{self.kills_done}/{self.kills_planned} SIGKILLs, {self.worker_processes} worker processes",
            f"  finished: {self.completed} completed, {self.failed} failed {self.failure_codes}, "
            f"{len(self.not_terminal)} not terminal",
            f"  duplicates: {self.duplicates} (videos_created {self.videos_created}, distinct video_ids "
            f"{self.distinct_video_ids}); lost: {len(self.lost)}",
            f"  faults injected ({sum(self.faults_injected.values())}): {faults}",
            f"  job requests: {self.job_requests}",
            f"  recovered: {self.idempotent_replays} idempotent replays, {self.resends_same_key} resends with "
            f"the same key, {self.requeued_after_429} requeues after 429; takeover after kill {takeover}",
            f"  worker logs: {len(self.log_alarms)} unhandled exceptions, {self.log_warnings} warnings",
            f"  duration: {self.duration_s:.1f} s" + (" (TIMED OUT)" if self.timed_out else ""),
            f"  result: {'OK' if self.ok else 'BROKEN: ' + '; '.join(self.problems())}",
        ])


# ---------------------------------------------------------------------------------------------- setup


def fault_spec(rate: float) -> str:
    """Fault spec giving ``rate`` of each job endpoint's requests a fault, split over :data:`FAULT_KINDS`."""
    each = rate / len(FAULT_KINDS)
    entries = ",".join(f"{kind}={each:.5f}" for kind in FAULT_KINDS)
    return ";".join(f"{endpoint}:{entries}" for endpoint in JOB_ENDPOINTS)


class CountingFaults:
    """Wraps the sandbox's fault plan and counts the faults it injects, by kind."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plan, name)

    def pick(self, method: str, template: str | None) -> str | None:
        kind = self.plan.pick(method, template)
        if kind:
            self.counts[kind] += 1
        return kind


def catalog_index() -> Any:
    """CatalogIndex over the sandbox's converted vendored catalog (what the sandbox serves)."""
    from core.catalog.index import CatalogIndex
    from core.heygen.types import AvatarLook, Voice
    from core.sandbox.catalog import load_sandbox_catalog

    catalog = load_sandbox_catalog()
    return CatalogIndex([Voice.model_validate(v) for v in catalog.voices],
                        [AvatarLook.model_validate(lk) for lk in catalog.looks])


class Database:
    """A private, migrated database: a SQLite file, or a fresh schema on the PostgreSQL test server."""

    def __init__(self, kind: str, folder: Path, url: str | None = None) -> None:
        self.kind = kind
        self.schema: str | None = None
        self.admin = None
        if url:
            self.url = url
        elif kind == "sqlite":
            self.url = f"sqlite:///{folder / 'reels.db'}"
        else:
            from sqlalchemy.engine import make_url

            base = normalise_url(os.environ.get("TEST_POSTGRES_URL") or DEFAULT_TEST_POSTGRES_URL)
            self.schema = "rs_soak_" + uuid.uuid4().hex[:12]
            self.admin = make_engine(base)
            with self.admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.url = make_url(base).update_query_dict({"options": f"-csearch_path={self.schema}"}) \
                .render_as_string(hide_password=False)
        self.engine = make_engine(self.url)
        migrate(self.engine)
        self.session_factory = make_session_factory(self.engine)

    def close(self) -> None:
        """Dispose the engine and drop the private PostgreSQL schema."""
        self.engine.dispose()
        if self.admin is not None and self.schema:
            with self.admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            self.admin.dispose()


def make_reels(session_factory: Any, index: Any, count: int, seed: int) -> list[int]:
    """Create and launch ``count`` valid reels (scene-based with 3 scenes, or studio with 1–5)."""
    rng = random.Random(seed)
    ids = []
    for n in range(count):
        mode = "scene_based" if n % 2 == 0 else "studio"
        scenes_n = 3 if mode == "scene_based" else rng.randint(1, 5)
        scenes = [SceneInput(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID,
                             script=f"Reel {n}, scene {i}: " + "a short sentence about the product. " * rng.randint(1, 3))
                  for i in range(1, scenes_n + 1)]
        with session_factory() as session:
            reel = create_reel(session, actor=person(f"owner{n % 4}"), title=f"Soak reel {n}", mode=mode, scenes=scenes)
            session.commit()
            result = lifecycle.launch(session, reel.id, actor=person(reel.owner), index=index)
            if not result.ok:
                raise RuntimeError(f"reel {reel.id} did not launch: {result.message} {result.problems}")
            ids.append(reel.id)
    return ids


# ---------------------------------------------------------------------------------------------- workers


class WorkerProcess:
    """``python -m core.jobs`` in a subprocess, its output in a log file."""

    def __init__(self, number: int, sandbox_url: str, db_url: str, folder: Path, *, poll_s: float,
                 lease_s: float, api_key: str = SANDBOX_API_KEY, args: tuple[str, ...] = ()) -> None:
        self.log_path = folder / f"worker-{number}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("HEYGEN_API_KEY", "HTTP_CACHE_URL")}
        env.update({
            "DATABASE_URL": db_url, "DATA_DIR": str(folder / "data"), "POLL_INTERVAL_SECONDS": str(poll_s),
            "WORKER_LEASE_SECONDS": str(lease_s), "HEYGEN_CONCURRENCY": "10", "WEBHOOK_PORT": "0",
            "WORKER_MODE": "external", "PYTHONUNBUFFERED": "1",
        })
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "core.jobs", "--base-url", sandbox_url, "--api-key", api_key, *args],
            cwd=PROJECT_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: no clean-up, no lease release — the hardest way to die."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self, sig: int = signal.SIGINT) -> None:
        """``sig`` (SIGINT or SIGTERM: a clean stop), then SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


def scan_logs(paths: list[Path]) -> tuple[list[str], int]:
    """(alarm lines, warning count) of the worker logs."""
    alarms, warnings = [], 0
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if any(alarm in line for alarm in LOG_ALARMS):
                alarms.append(f"{path.name}: {line.strip()[:200]}")
            elif " WARNING " in line:
                warnings += 1
    return alarms, warnings


# ---------------------------------------------------------------------------------------------- checks


def check_reels(session_factory: Any, reel_ids: list[int], report: SoakReport) -> None:
    """Fill the terminal, duplicate and lost figures of ``report`` from the database."""
    with session_factory() as session:
        reels = {r.id: r for r in session.scalars(select(Reel).where(Reel.id.in_(reel_ids)))}
        events: dict[int, list[ReelEvent]] = defaultdict(list)
        for event in session.scalars(select(ReelEvent).order_by(ReelEvent.id)):
            events[event.reel_id].append(event)
        attempts: dict[int, list[ReelAttempt]] = defaultdict(list)
        for attempt in session.scalars(select(ReelAttempt).order_by(ReelAttempt.number)):
            attempts[attempt.reel_id].append(attempt)
    codes: Counter[str] = Counter()
    video_ids: Counter[str] = Counter()
    for reel_id in reel_ids:
        reel = reels.get(reel_id)
        if reel is None:
            report.lost.append(f"reel {reel_id} is missing")
            continue
        if reel.status == "completed":
            report.completed += 1
        elif reel.status == "failed":
            report.failed += 1
            codes[reel.failure_code or "?"] += 1
            if not reel.failure_code or not reel.failure_message:
                report.failed_without_reason.append(reel_id)
        if reel.status not in TERMINAL_STATUSES or reel.status == "cancelled":
            report.not_terminal.append(reel_id)
        if reel.video_id:
            video_ids[reel.video_id] += 1
        report.lost += history_problems(reel, events[reel_id], attempts[reel_id])
        report.resends_same_key += sum("Will send again with the same key" in e.detail for e in events[reel_id])
        report.requeued_after_429 += sum(e.from_status == "submitting" and e.to_status == "queued"
                                         for e in events[reel_id])
    report.failure_codes = dict(codes)
    report.distinct_video_ids = len(video_ids)
    report.duplicate_video_ids = sum(n - 1 for n in video_ids.values() if n > 1)


def history_problems(reel: Reel, events: list[ReelEvent], attempts: list[ReelAttempt]) -> list[str]:
    """What is missing or out of order in one reel's history (empty when complete)."""
    steps = [(e.from_status, e.to_status) for e in events if e.from_status and e.from_status != e.to_status]
    where = f"reel {reel.id}"
    if not steps:
        return [f"{where}: no status events"]
    problems = []
    if steps[0] != ("draft", "queued"):
        problems.append(f"{where}: first step {steps[0]}")
    for (_, to), (frm, _) in zip(steps, steps[1:], strict=False):
        if frm != to:
            problems.append(f"{where}: gap {to} → {frm}")
    problems += [f"{where}: unexpected step {s}" for s in steps if s not in ALLOWED_STEPS]
    if steps[-1][1] != reel.status:
        problems.append(f"{where}: last event ends at {steps[-1][1]}, reel is {reel.status}")
    if reel.status == "completed" and ("submitting", "pending") not in steps:
        problems.append(f"{where}: completed without a stored submission")
    if len(attempts) != 1:
        problems.append(f"{where}: {len(attempts)} attempts")
    elif reel.video_id and attempts[0].video_id != reel.video_id:
        problems.append(f"{where}: attempt video_id {attempts[0].video_id} != {reel.video_id}")
    elif attempts[0].status != reel.status:
        problems.append(f"{where}: attempt status {attempts[0].status} != {reel.status}")
    return problems


def _terminal_count(session_factory: Any) -> int:
    with session_factory() as session:
        return session.execute(
            select(func.count()).select_from(Reel).where(Reel.status.in_(("completed", "failed")))
        ).scalar_one()


def _first_event_after(session_factory: Any, moment: float, exclude_actor: str | None) -> float | None:
    """Unix time of the first worker event after ``moment`` by another actor than ``exclude_actor``."""
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(moment, UTC)
    with session_factory() as session:
        rows = session.execute(
            select(ReelEvent.at, ReelEvent.actor).where(ReelEvent.at > since).order_by(ReelEvent.id).limit(50)
        ).all()
    for at, actor in rows:
        if actor != exclude_actor and ":" in actor:  # worker names are host:pid:hex
            return at.timestamp()
    return None


def _lease_holder(session_factory: Any) -> str | None:
    from core.models import WorkerLease

    with session_factory() as session:
        lease = session.get(WorkerLease, "worker")
        return lease.holder if lease else None


# ---------------------------------------------------------------------------------------------- the run


def run_soak(
    *,
    reels: int = 300,
    faults: float = 0.2,
    kills: int = 5,
    db: str = "sqlite",
    db_url: str | None = None,
    time_scale: float = 0.02,
    slow_s: float = 0.5,
    render_failures: float = 0.05,
    poll_s: float = 0.2,
    lease_s: float = 2.0,
    seed: int = 7,
    timeout_s: float = 1800.0,
    folder: Path | None = None,
    render_media: bool = False,
    progress: Any = None,
) -> SoakReport:
    """Run one soak (see the module docstring) and return its :class:`SoakReport`.

    ``db``: ``sqlite`` or ``postgresql`` (a private database made here) unless ``db_url`` names an
    empty one to use. ``time_scale``: the sandbox's render-time multiplier. ``slow_s``: delay of a
    "slow" fault (s). ``render_failures``: share of jobs that fail at HeyGen. ``poll_s`` /
    ``lease_s``: the workers' poll interval and lease (s). ``progress(line)``: optional reporter.
    """
    from core.sandbox import SandboxConfig, start_in_thread

    say = progress or (lambda line: None)
    own_folder = None
    if folder is None:
        own_folder = tempfile.TemporaryDirectory(prefix="reel-soak-")
        folder = Path(own_folder.name)
    report = SoakReport(db=db, reels=reels, fault_rate=faults, kills_planned=kills)
    database = Database(db, folder, db_url)
    server = start_in_thread(SandboxConfig(
        api_keys=(SANDBOX_API_KEY,), time_scale=time_scale, seed=seed, faults=fault_spec(faults) if faults else None,
        balance_usd=1_000_000.0, slow_s=slow_s, render_media=render_media,
    ))
    counting = CountingFaults(server.sandbox.faults)
    server.sandbox.faults = counting
    workers: list[WorkerProcess] = []
    try:
        fail_next = round(reels * render_failures)
        if fail_next:
            requests.post(f"{server.url}/_sandbox/faults", json={"fail_next": fail_next}, timeout=10) \
                .raise_for_status()
        index = catalog_index()
        started = time.monotonic()
        reel_ids = make_reels(database.session_factory, index, reels, seed)
        say(f"{len(reel_ids)} reels launched on {db}; starting the worker")

        def new_worker() -> WorkerProcess:
            worker = WorkerProcess(len(workers) + 1, server.url, database.url, folder, poll_s=poll_s, lease_s=lease_s)
            workers.append(worker)
            return worker

        current = new_worker()
        rng = random.Random(seed)
        thresholds = sorted(int(reels * (i + rng.uniform(0.6, 1.2)) / (kills + 1)) for i in range(kills))
        deadline = time.monotonic() + timeout_s
        done = 0
        while time.monotonic() < deadline:
            done = _terminal_count(database.session_factory)
            if done >= reels:
                break
            if thresholds and done >= thresholds[0]:
                thresholds.pop(0)
                victim = _lease_holder(database.session_factory)
                killed_at = time.time()
                current.kill()
                report.kills_done += 1
                say(f"SIGKILL worker pid {current.pid} at {done}/{reels} terminal")
                current = new_worker()
                while time.monotonic() < deadline:
                    seen = _first_event_after(database.session_factory, killed_at, victim)
                    if seen is not None:
                        report.takeover_s.append(round(seen - killed_at, 2))
                        break
                    if _terminal_count(database.session_factory) >= reels:
                        break
                    time.sleep(0.1)
                continue
            if current.proc.poll() is not None:  # died on its own: count it and start another
                report.log_alarms.append(f"worker pid {current.pid} exited with {current.proc.returncode}")
                current = new_worker()
            time.sleep(0.1)
        else:
            report.timed_out = True
        report.duration_s = round(time.monotonic() - started, 1)
        current.stop()
        stats = requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()
        report.videos_created = stats["videos_created"]
        report.idempotent_replays = stats["idempotent_replays"]
        report.job_requests = {k: v for k, v in stats["requests"].items() if k in JOB_ENDPOINTS}
        report.faults_injected = dict(counting.counts)
        report.worker_processes = len(workers)
        check_reels(database.session_factory, reel_ids, report)
        alarms, report.log_warnings = scan_logs([w.log_path for w in workers])
        report.log_alarms += alarms
        return report
    finally:
        for worker in workers:
            if worker.proc.poll() is None:
                worker.kill()
        server.stop()
        database.close()
        if own_folder is not None:
            own_folder.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Command line: run the soak, print the figures (text, then one JSON line); exit 1 if a promise broke."""
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--reels", type=int, default=300)
    parser.add_argument("--faults", type=float, default=0.2, help="share of job requests given a fault (0..1)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILL + restart the worker this many times")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--time-scale", type=float, default=0.02, help="sandbox render-time multiplier")
    parser.add_argument("--slow", type=float, default=0.5, help="delay of a 'slow' fault (s)")
    parser.add_argument("--render-failures", type=float, default=0.05, help="share of jobs failing at HeyGen")
    parser.add_argument("--lease", type=float, default=2.0, help="worker lease (s)")
    parser.add_argument("--poll", type=float, default=0.2, help="worker poll interval (s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800.0, help="give up after this many seconds")
    parser.add_argument("--render-media", action="store_true", help="render real MP4s (slower)")
    parser.add_argument("--keep", type=Path, default=None, help="keep worker logs in this folder")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    report = run_soak(reels=args.reels, faults=args.faults, kills=args.kills, db=args.db,
                      time_scale=args.time_scale, slow_s=args.slow, render_failures=args.render_failures,
                      poll_s=args.poll, lease_s=args.lease, seed=args.seed, timeout_s=args.timeout,
                      folder=args.keep, render_media=args.render_media,
                      progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(report.summary())
    print(json.dumps(report.as_dict(), sort_keys=True))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
