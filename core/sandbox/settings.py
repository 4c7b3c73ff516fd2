"""Configuration of the local HeyGen-v3-compatible sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class SandboxConfig:
    """How one sandbox server behaves.

    - ``api_keys``: keys accepted in ``X-Api-Key`` or ``Authorization: Bearer``; ``forbidden_keys`` are
      recognised but answered with 403 ``forbidden``.
    - ``time_scale``: multiplier of the render-time model. A job waits ``2 s × time_scale`` as ``pending``
      and then renders for ``estimated speech seconds × time_scale`` as ``processing``; 1.0 finishes a
      three-scene reel of ~20 s speech in ~22 s, 0.01 in a fraction of a second (plus the real MP4 encode).
    - ``seed``: makes video ids, secrets and fault draws reproducible.
    - ``faults``: fault-injection spec, see :mod:`core.sandbox.faults`; ``slow_s`` is the "slow" delay (s).
    - ``balance_usd``: starting wallet balance (USD); ``concurrency_limit``: pending+processing jobs per key.
    - ``state_dir``: media + persisted state (``state.json``); ``None`` → a temp dir and in-memory state.
    - ``original_media``: serve HeyGen's original preview URLs instead of local generated previews.
    - ``include_private`` / ``include_talking_photos``: catalog switches (see :mod:`core.sandbox.catalog`).
    - ``create_latency_s``: artificial delay while ``POST /v3/videos`` holds its idempotency marker (s).
    - ``clock``: returns Unix seconds; inject a controllable clock in tests.
    - ``render_media``: ``False`` skips MP4/JPEG/SRT rendering (outputs then are tiny placeholders).
    - ``webhook_timeout_s``: timeout of each outgoing webhook POST (s).
    - ``photo_avatar_consent``: trained photo avatars wait in ``pending_consent`` until their consent page
      (``POST /v3/avatars/{group_id}/consent``) is approved; off by default.
    """

    api_keys: tuple[str, ...] = ("sandbox-local-key",)
    forbidden_keys: tuple[str, ...] = ()
    time_scale: float = 1.0
    seed: int | None = None
    faults: str | None = None
    balance_usd: float = 100.0
    concurrency_limit: int = 10
    state_dir: Path | None = None
    original_media: bool = False
    include_private: bool = True
    include_talking_photos: bool = False
    slow_s: float = 2.0
    create_latency_s: float = 0.0
    clock: Callable[[], float] = field(default=time.time, repr=False)
    render_media: bool = True
    webhook_timeout_s: float = 3.0
    queue_s: float = 2.0
    photo_avatar_consent: bool = False


class ShiftClock:
    """A clock for tests: real time plus an offset that only grows when told (Unix seconds)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` into the future (e.g. past a link's 7-day expiry)."""
        self.offset += seconds
