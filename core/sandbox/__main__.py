"""``python -m core.sandbox``: run the HeyGen-v3-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from core.sandbox.app import create_app
from core.sandbox.settings import SandboxConfig


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m core.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help="accepted API key (repeatable; default sandbox-local-key)")
    parser.add_argument("--time-scale", type=float, default=1.0, help="render-time multiplier (1.0 ≈ real-ish)")
    parser.add_argument("--faults", default=None, help='fault spec, e.g. "429=0.05,500=0.03,drop=0.02"')
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--balance", type=float, default=100.0, help="starting wallet balance in USD")
    parser.add_argument("--state-dir", type=Path, default=None, help="persist videos and media here")
    args = parser.parse_args(argv)
    config = SandboxConfig(api_keys=tuple(args.api_keys or ("sandbox-local-key",)), time_scale=args.time_scale,
                           faults=args.faults, seed=args.seed, balance_usd=args.balance, state_dir=args.state_dir)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="info"))
    app.state.sandbox.uvicorn_server = server
    print(f"HeyGen v3 sandbox on http://{args.host}:{args.port} (keys: {len(config.api_keys)})", flush=True)
    server.run()


if __name__ == "__main__":
    main()
