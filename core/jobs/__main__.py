"""Entry point of ``python -m core.jobs``: the standalone worker, and the webhook receiver when a port is set.

It builds everything through :mod:`core.runtime`, the one composition root.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from sqlalchemy.orm import sessionmaker

from core.config import SANDBOX_API_KEY, Settings, load_settings
from core.jobs.webhooks import create_app
from core.jobs.worker import Worker
from core.runtime import ClientFactory, build_worker_runtime, make_client

log = logging.getLogger(__name__)

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Arguments of ``python -m core.jobs``."""
    parser = argparse.ArgumentParser(prog="python -m core.jobs",
                                     description="Submit queued reels to HeyGen and follow them.")
    parser.add_argument("--webhook-port", type=int, default=None,
                        help="serve POST /webhooks/heygen on this port (default: WEBHOOK_PORT; 0 = off)")
    parser.add_argument("--base-url", default=None,
                        help="HeyGen or sandbox base URL (required in sandbox mode, e.g. http://127.0.0.1:8787)")
    parser.add_argument("--api-key", default=None, help="API key override (default: HEYGEN_API_KEY)")
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    return parser.parse_args(argv)


def _client_target(settings: Settings, args: argparse.Namespace) -> tuple[str, str]:
    if settings.sandbox and not args.base_url:
        raise SystemExit("Sandbox mode (no HEYGEN_API_KEY): start `python -m core.sandbox --port 8787` and pass "
                         "--base-url http://127.0.0.1:8787, or set HEYGEN_API_KEY for live mode.")
    base_url = (args.base_url or settings.heygen_base_url).rstrip("/")
    api_key = args.api_key or settings.heygen_api_key or SANDBOX_API_KEY
    return base_url, api_key


def main(argv: list[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Entry point of ``python -m core.jobs``: migrate, then loop (and serve webhooks when a port is set).

    Returns:
        the process exit code (0 after a clean stop).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    settings = load_settings()
    base_url, api_key = _client_target(settings, args)
    runtime = build_worker_runtime(settings, base_url, api_key, client_factory=client_factory or make_client)
    worker = runtime.worker
    assert worker is not None
    log.info("worker %s started against %s (%s mode)", worker.name, base_url, settings.mode)
    if args.once:
        log.info("cycle: %s", worker.run_once())
        return 0
    port = settings.webhook_port if args.webhook_port is None else args.webhook_port
    if port:
        return _serve_webhooks(worker, runtime.session_factory, settings, port, runtime.client)
    return _loop_forever(worker)


def _loop_forever(worker: Worker) -> int:
    worker.start()
    try:
        while worker.running:
            time.sleep(1.0)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        worker.stop()
    return 0


def _serve_webhooks(worker: Worker, factory: sessionmaker, settings: Settings, port: int, client: Any) -> int:
    import uvicorn

    if not settings.webhook_secret:
        log.warning("HEYGEN_WEBHOOK_SECRET is not set: every webhook delivery will be rejected (401)")
    worker.start()
    try:
        uvicorn.run(create_app(factory, settings.webhook_secret or "", client), host="0.0.0.0", port=port,
                    log_level="info")
    finally:
        worker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
