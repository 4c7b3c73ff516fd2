"""A local, HeyGen-v3-compatible server: the app's offline default and the double for integration tests.

It serves the real 2026 catalog (converted to v3 objects), validates requests strictly against HeyGen's
official schemas, runs video jobs on a scaled clock and renders real MP4s, charges a wallet, signs
webhooks, honours ``Idempotency-Key`` and can inject faults. It also stands in for a chat model
(``POST /v1/chat/completions``, OpenAI-compatible, deterministic script drafts) and keeps an account's own
media (:mod:`core.sandbox.own_media`): uploaded assets, photo avatars that train over time, voice clones
that become private voices, and studio scenes that speak an uploaded recording. Public API::

    SandboxConfig(...)                      # settings (see core.sandbox.settings)
    create_app(config) -> Starlette         # the ASGI app
    start_in_thread(config, host, port) -> SandboxServer   # .url, .stop(), .state, .sandbox
    python -m core.sandbox --port 8787 --api-key KEY [--time-scale X] [--faults SPEC] [--seed N]
                           [--balance USD] [--state-dir DIR]
"""

from core.sandbox.app import create_app
from core.sandbox.server import SandboxServer, start_in_thread
from core.sandbox.settings import SandboxConfig, ShiftClock

__all__ = ["SandboxConfig", "SandboxServer", "ShiftClock", "create_app", "start_in_thread"]
