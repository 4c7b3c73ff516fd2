"""Launch overhead: 100 queued reels submitted at the concurrency limit against the sandbox.

Our own time per launch, excluding HeyGen's latency:

- ``launch``: :func:`core.generation.launch` per reel (validation against the catalog index,
  conditional draft → queued update, attempt row, event): no HTTP at all;
- ``submit``: the worker's submit path (:meth:`Worker._submit_phase`: claim queued → submitting within
  the concurrency cap, build the ``POST /v3/videos`` body, send it, store the video_id) with the time
  spent inside HTTP calls subtracted (the client's ``_send`` is wrapped with a timer).

The worker runs at its cap (``HEYGEN_CONCURRENCY`` = 10): each cycle submits 10 reels; between cycles
the submitted reels are marked completed in our database (as a finished poll would) so the next 10
fit. The sandbox allows 100 jobs in flight and runs at time scale 1.0, so no video finishes (and no
MP4 is rendered) during the measurement. The sandbox runs in its own process (HeyGen is remote). Target: launch + submit overhead ≤ 5 ms per reel.
``--small``: 20 reels.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from _common import SANDBOX_KEY, SandboxProcess, figure, median, ms, parser, quiet, sandbox_stats, stats_delta

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"  # Ivy, English, supports locales


def make_drafts(session_factory, count: int) -> list[int]:
    from core.models import Reel, Scene

    ids = []
    with session_factory() as session:
        for n in range(count):
            reel = Reel(title=f"Launch bench {n}", owner=f"producer-{n % 7}", mode="scene_based", status="draft")
            reel.scenes = [Scene(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID,
                                 script=f"Scene {i}: a short sentence about the product, take {n}.")
                           for i in range(1, 4)]
            session.add(reel)
            session.flush()
            ids.append(reel.id)
        session.commit()
    return ids


class HttpTimer:
    """Wraps ``client._send`` and sums the seconds spent inside HTTP calls."""

    def __init__(self, client) -> None:
        self.seconds = 0.0
        self.calls = 0
        inner = client._send

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        client._send = timed


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--synchronous", choices=["default", "normal"], default="default",
                   help="SQLite PRAGMA synchronous for this run (default: what core.db sets; normal: the "
                        "proposed WAL setting, applied here through an engine connect listener)")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the launch and submit loops")
    args = p.parse_args()
    import cProfile

    prof = cProfile.Profile() if args.profile else None
    quiet()
    count = 20 if args.small else 100
    from sqlalchemy import update

    from core import generation
    from core.catalog import load_catalog
    from core.config import Settings
    from core.db import make_engine, make_session_factory, migrate
    from core.heygen import HeyGenClient
    from core.models import Reel
    from core.worker import CycleReport, Worker

    with tempfile.TemporaryDirectory(prefix="bench-launch-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/reels.db")
        if args.synchronous == "normal":
            from sqlalchemy import event

            event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA synchronous = NORMAL"))
        migrate(engine)
        factory = make_session_factory(engine)
        server = SandboxProcess(time_scale=1.0, concurrency_limit=100, balance_usd=100_000.0,
                                state_dir=str(Path(tmp) / "sandbox"))
        try:
            client = HeyGenClient(SANDBOX_KEY, base_url=server.url, cache_location=f"{tmp}/http.sqlite")
            index = load_catalog(client).index  # the app has its catalog loaded already
            settings = dataclasses.replace(Settings(), heygen_concurrency=10, per_owner_cap=0, lease_seconds=300)
            worker = Worker(factory, client, settings, name="bench-worker")
            worker._index_for_body()  # warm: the worker's catalog index, as in a running app
            timer = HttpTimer(client)
            ids = make_drafts(factory, count)

            launch_s = []
            if prof:
                prof.enable()
            with factory() as session:
                for reel_id in ids:
                    start = time.perf_counter()
                    result = generation.launch(session, reel_id, actor="bench", index=index)
                    launch_s.append(time.perf_counter() - start)
                    assert result.ok, result.message

            assert worker.acquire_lease()
            before = sandbox_stats(server.url)
            per_reel, cycles, submitted = [], 0, 0
            total_wall = total_http = 0.0
            while submitted < count and cycles < count:
                http_before, calls_before = timer.seconds, timer.calls
                report = CycleReport()
                start = time.perf_counter()
                worker._submit_phase(report)
                wall = time.perf_counter() - start
                http = timer.seconds - http_before
                cycles += 1
                if report.errors:
                    raise SystemExit(f"submission errors: {report.errors[:3]}")
                submitted += report.submitted
                total_wall += wall
                total_http += http
                if report.submitted:
                    per_reel.append((wall - http) / report.submitted)
                with factory() as session:  # as if the poll found them finished: frees the slots
                    session.execute(update(Reel).where(Reel.status.in_(("pending", "processing")))
                                    .values(status="completed"))
                    session.commit()
                assert timer.calls - calls_before == report.submitted, "one POST per reel expected"
            if prof:
                prof.disable()
            calls = stats_delta(before, sandbox_stats(server.url))
        finally:
            server.stop()

    if prof:
        import pstats

        stats = pstats.Stats(prof).sort_stats("cumulative")
        stats.print_stats(r"core/", 40)
        stats.print_callees(r"_submit\b|launch\b|_claim")
    ours = (total_wall - total_http) / max(submitted, 1)
    launch_ms = median(launch_s)
    figure("sqlite_synchronous", args.synchronous)
    figure("reels", f"{count} queued, {submitted} submitted in {cycles} cycles at HEYGEN_CONCURRENCY=10")
    figure("heygen_calls", f"{calls}")
    figure("launch_median", f"{ms(launch_ms)} per reel (generation.launch: validate, claim, attempt, event)")
    figure("submit_wall_total", f"{total_wall:.2f} s, of which HTTP {total_http:.2f} s")
    figure("submit_overhead_mean", f"{ms(ours)} per reel (wall − HTTP)")
    figure("submit_overhead_median_cycle", f"{ms(median(per_reel))} per reel")
    figure("http_per_post_mean", ms(total_http / max(submitted, 1)))
    total = launch_ms + ours
    figure("RESULT", f"our overhead {ms(total)} per launch (target ≤ 5 ms) {'PASS' if total <= 0.005 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
