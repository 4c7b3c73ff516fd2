"""Catalog loading: HeyGen calls on a cold cache, a warm cache, and after an app restart.

Counts requests with the sandbox's ``GET /_sandbox/stats``:

1. cold: a new SQLite HTTP cache file; :func:`core.catalog.store.load_catalog` must make exactly
   ⌈private voices/100⌉ + ⌈public voices/100⌉ + ⌈looks/50⌉ calls;
2. warm: the same client again, within the cache lifetime: zero calls;
3. restart: a NEW process with a new client on the same cache file, (a) against the sandbox on the
   SAME port (the app's sandbox keeps SANDBOX_PORT=8787 across restarts) and (b) against a sandbox on
   a NEW port (the port was taken, so the app picked a free one). Zero calls expected in (a); the
   original goal was zero in (b) too (cache keys independent of host/port), but
   ``core.heygen.session.canonical_url`` keeps the port in the key on purpose (sandbox responses carry
   media URLs on the sandbox's own port), so (b) is reported, not required.

``--small`` runs the same steps (the catalog is fixed; the run takes a few seconds either way).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, SANDBOX_KEY, ceil_div, figure, parser, sandbox_stats, stats_delta


def _client(url: str, cache_file: Path):
    from core.heygen import HeyGenClient

    return HeyGenClient(SANDBOX_KEY, base_url=url, cache_location=str(cache_file), catalog_ttl_s=3600)


def child(url: str, cache_file: Path) -> None:
    """The "restarted app": a fresh process, a fresh client on the same cache file."""
    from core.catalog.store import load_catalog

    start = time.perf_counter()
    catalog = load_catalog(_client(url, cache_file))
    print(json.dumps({"voices": len(catalog.voices), "looks": len(catalog.looks),
                      "seconds": time.perf_counter() - start}))


def _restart(url: str, cache_file: Path) -> dict:
    """Run :func:`child` in a new process (the restarted app) and return what it printed."""
    out = subprocess.run([sys.executable, __file__, "--child", url, str(cache_file)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--child", nargs=2, metavar=("URL", "CACHE_FILE"), help=argparse_hidden())
    args = p.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    from core.catalog.store import load_catalog
    from core.sandbox import SandboxConfig, start_in_thread

    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        cache_file = Path(tmp) / "http_cache.sqlite"
        first = start_in_thread(SandboxConfig(api_keys=(SANDBOX_KEY,), state_dir=Path(tmp) / "sb1"))
        second = None
        try:
            client = _client(first.url, cache_file)
            before = sandbox_stats(first.url)
            t0 = time.perf_counter()
            catalog = load_catalog(client)
            cold_s = time.perf_counter() - t0
            cold = stats_delta(before, sandbox_stats(first.url))
            private = sum(1 for v in catalog.voices if (v.type or "") == "private")
            public = len(catalog.voices) - private
            minimum = ceil_div(private, 100) + ceil_div(public, 100) + ceil_div(len(catalog.looks), 50)

            before = sandbox_stats(first.url)
            t0 = time.perf_counter()
            load_catalog(client)
            warm_s = time.perf_counter() - t0
            warm = stats_delta(before, sandbox_stats(first.url))
            client.close()

            before = sandbox_stats(first.url)
            same_info = _restart(first.url, cache_file)
            same = stats_delta(before, sandbox_stats(first.url))

            second = start_in_thread(SandboxConfig(api_keys=(SANDBOX_KEY,), state_dir=Path(tmp) / "sb2"))
            before = sandbox_stats(second.url)
            restart_info = _restart(second.url, cache_file)
            restart = stats_delta(before, sandbox_stats(second.url))
        finally:
            first.stop()
            if second is not None:
                second.stop()

    cold_calls, warm_calls, restart_calls = sum(cold.values()), sum(warm.values()), sum(restart.values())
    same_calls = sum(same.values())
    figure("catalog", f"{private} private + {public} public voices, {len(catalog.looks)} looks")
    figure("minimum_calls", f"{minimum} (⌈{private}/100⌉ + ⌈{public}/100⌉ + ⌈{len(catalog.looks)}/50⌉)")
    figure("cold_calls", f"{cold_calls} {cold} in {cold_s:.2f} s")
    figure("warm_calls", f"{warm_calls} in {warm_s:.2f} s")
    figure("restart_same_port_calls", f"{same_calls} (new process, same sandbox port, "
           f"{same_info['voices']} voices in {same_info['seconds']:.2f} s)")
    figure("restart_new_port_calls", f"{restart_calls} (new process, sandbox on NEW port {second.url.rsplit(':', 1)[1]}, "
           f"{restart_info['voices']} voices in {restart_info['seconds']:.2f} s)")
    ok = cold_calls == minimum and warm_calls == 0 and same_calls == 0
    new_port = "0 calls" if restart_calls == 0 else f"full reload by design ({restart_calls} calls)"
    figure("RESULT", f"cold/warm/same-port restart {'PASS' if ok else 'FAIL'}; new-port restart {new_port}")
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
