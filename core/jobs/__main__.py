"""Entry point of ``python -m core.jobs``: the standalone worker, and its HTTP port when one is set.

On the port (``--webhook-port`` or ``WEBHOOK_PORT``, bound to ``WEBHOOK_HOST``, loopback by default) it
serves ``POST /webhooks/heygen``, ``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` with the limits of
:mod:`core.jobs.http_server`. It builds everything through :mod:`core.runtime`, the one composition root.

``python -m core.jobs archive-backfill`` instead archives every completed reel that has no archive yet,
with a progress bar, and exits (1 when some could not be archived).

A start-up problem (bad setting, unreachable database, unwritable data folder, port in use) is one
sentence on stderr and exit code 2; the traceback is logged only at ``LOG_LEVEL=DEBUG``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
from typing import Any

import uvicorn

from core.config import SANDBOX_API_KEY, Settings, SettingsError, load_settings
from core.heygen.errors import AuthenticationError, HeyGenError, PermissionDeniedError
from core.jobs.archiver import backfill_with_progress
from core.jobs.health import readiness
from core.jobs.http_server import server_config
from core.jobs.probes import probe_routes
from core.jobs.webhooks import create_app
from core.jobs.worker import Worker
from core.logs import configure_logging, redact
from core.runtime import ClientFactory, Runtime, StartupError, build_worker_runtime, make_client

log = logging.getLogger(__name__)

#: Exit code of a start-up problem the user can fix (bad setting, database, data folder, port).
STARTUP_FAILED = 2


class _Refused(Exception):
    """A start-up problem with its one-sentence explanation."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Arguments of ``python -m core.jobs``."""
    parser = argparse.ArgumentParser(prog="python -m core.jobs",
                                     description="Submit queued reels to HeyGen and follow them.")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "archive-backfill"],
                        help="run: the worker (default); archive-backfill: archive every completed reel "
                             "that has no archive yet, then exit")
    parser.add_argument("--webhook-port", type=int, default=None,
                        help="serve webhooks, /healthz, /readyz and /metrics on this port "
                             "(default: WEBHOOK_PORT; 0 = off)")
    parser.add_argument("--base-url", default=None,
                        help="HeyGen or sandbox base URL (required in sandbox mode, e.g. http://127.0.0.1:8787)")
    parser.add_argument("--api-key", default=None, help="API key override (default: HEYGEN_API_KEY)")
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    return parser.parse_args(argv)


def _client_target(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    if settings.sandbox and not args.base_url:
        raise _Refused("Sandbox mode (no HEYGEN_API_KEY): start `python -m core.sandbox --port 8787` and pass "
                       "--base-url http://127.0.0.1:8787, or set HEYGEN_API_KEY for live mode.")
    base_url = (args.base_url or settings.heygen_base_url).rstrip("/")
    api_key = args.api_key or settings.heygen_api_key or SANDBOX_API_KEY
    return base_url, api_key


def main(argv: list[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Entry point of ``python -m core.jobs``: migrate, then loop (and serve the port when one is set).

    Returns:
        the process exit code: 0 after a clean stop (SIGTERM, SIGINT), :data:`STARTUP_FAILED` (2) for a
        start-up problem (including a key HeyGen refuses).
    """
    args = parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        configure_logging()
        return _refuse(str(exc))
    configure_logging(settings.log_format, settings.log_level)
    listener = None
    try:
        base_url, api_key = _client_target(settings, args)
        port = settings.webhook_port if args.webhook_port is None else args.webhook_port
        serving = port and not args.once and args.command == "run"
        listener = _bind(settings.webhook_host, port) if serving else None
        runtime = build_worker_runtime(settings, base_url, api_key, client_factory=client_factory or make_client)
    except (_Refused, StartupError) as exc:
        log.debug("start-up failed", exc_info=True)
        if listener is not None:
            listener.close()
        return _refuse(str(exc))
    except Exception as exc:  # an unexpected start-up failure: one sentence, the traceback only at DEBUG
        log.debug("start-up failed", exc_info=True)
        if listener is not None:
            listener.close()
        return _refuse(f"The worker could not start ({type(exc).__name__}: {redact(str(exc))[:200]}); "
                       "run with LOG_LEVEL=DEBUG for details.")
    if args.command == "archive-backfill":
        assert runtime.archive is not None
        try:
            return backfill_with_progress(runtime.session_factory, runtime.archive, runtime.client,
                                          timeout_s=settings.archive_timeout_s)
        finally:
            runtime.stop()
    worker = runtime.worker
    assert worker is not None
    problem = check_key(runtime.client)
    if problem:
        runtime.stop()
        return _refuse(problem)
    log.info("worker %s started against %s (%s mode)", worker.name, base_url, settings.mode)
    if args.once:
        log.info("cycle: %s", worker.run_once())
        runtime.stop()
        return 0
    if listener is not None:
        return _serve(runtime, worker, listener)
    return _loop_forever(runtime, worker)


def _refuse(sentence: str) -> int:
    print(f"Reel Studio worker: {sentence}", file=sys.stderr)
    return STARTUP_FAILED


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket for ``host:port``; a port that cannot be used raises :class:`_Refused`."""
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        raise _Refused(f"Port {port} on {host} cannot be used ({exc.strerror or exc}); choose another "
                       "--webhook-port or WEBHOOK_HOST.") from None
    return sock


def check_key(client: Any) -> str | None:
    """One sentence when HeyGen refuses the key (``GET /v3/users/me`` answers 401 or 403), else ``None``.

    Every worker checks at start, so a standby with a wrong key stops at once instead of failing
    only when it takes over. HeyGen being unreachable is not the key's fault: it is logged and
    the worker starts (it retries every cycle).
    """
    try:
        client.get_current_user()
    except (AuthenticationError, PermissionDeniedError):
        return ("HeyGen did not accept the API key (GET /v3/users/me was refused); check HEYGEN_API_KEY "
                "or --api-key.")
    except HeyGenError as exc:
        log.warning("could not check the API key at start (%s); starting anyway", exc.code)
    return None


def stop_on_signals(stop: threading.Event) -> None:
    """Make SIGTERM (systemd, containers) and SIGINT (Ctrl-C) set ``stop`` instead of killing the process.

    uvicorn takes both signals while it serves and raises them again once it has shut down; they
    then reach this handler, so the worker still finishes its step and releases the lease.
    """

    def handle(signum: int, _frame: Any) -> None:
        if not stop.is_set():
            log.info("%s received: finishing the current step and releasing the lease",
                     signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _loop_forever(runtime: Runtime, worker: Worker) -> int:
    stop = threading.Event()
    stop_on_signals(stop)
    worker.start()
    try:
        while worker.running and not stop.wait(1.0):
            pass
    finally:
        runtime.stop()
        log.info("worker %s stopped; lease released", worker.name)
    return 0


def _serve(runtime: Runtime, worker: Worker, listener: socket.socket) -> int:
    settings, metrics = runtime.settings, runtime.metrics
    assert metrics is not None
    if not settings.webhook_secret:
        log.warning("HEYGEN_WEBHOOK_SECRET is not set: every webhook delivery will be rejected (401)")

    def check():
        return readiness(runtime.engine, worker_name=worker.name, worker_running=lambda: worker.running,
                         heygen_reachable=lambda: metrics.heygen_answered)

    metrics.watch_readiness(check)
    app = create_app(runtime.session_factory, settings.webhook_secret or "", runtime.client, metrics=metrics,
                     extra_routes=probe_routes(metrics, check))
    host, port = listener.getsockname()[:2]
    server = uvicorn.Server(server_config(app, host, port, trusted_proxies=settings.trusted_proxy_list))
    log.info("serving webhooks, /healthz, /readyz and /metrics on %s:%s", host, port)
    stop_on_signals(threading.Event())  # uvicorn's shutdown ends the serving; the signal lands here afterwards
    worker.start()
    try:
        server.run(sockets=[listener])
    finally:
        runtime.stop()
        log.info("worker %s stopped; lease released", worker.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
