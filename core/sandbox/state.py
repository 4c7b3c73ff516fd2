"""The sandbox's mutable state: videos, idempotency records, webhooks, wallet and counters.

Everything lives in one JSON-serialisable dict guarded by one re-entrant lock. With a ``path`` the
dict is written atomically to ``state.json`` after each change, so videos survive a restart; without
one it stays in memory. API keys are never stored: owners are identified by a hash of the key.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


def owner_of(api_key: str) -> str:
    """A stable, non-reversible owner id for an API key (first 16 hex chars of its SHA-256)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _fresh(balance_usd: float, secret: str) -> dict[str, Any]:
    return {
        "videos": {},          # video_id -> record (insertion order = creation order)
        "idempotency": {},     # "owner|METHOD|path|key" -> {"state", "status", "body", "at"}
        "endpoints": {},       # endpoint_id -> webhook endpoint record (incl. owner, secret)
        "events": [],          # delivered webhook events, oldest first
        "speech": {},          # request_id -> {"owner", "path"}
        "balance_usd": balance_usd,
        "secret": secret,      # signs file URLs; kept so links survive a restart
        "counters": {"videos_created": 0, "idempotent_replays": 0, "webhook_deliveries": 0,
                     "webhook_failures": 0},
    }


class Store:
    """Thread-safe sandbox state. Use ``with store.lock:`` around read-modify-write sequences."""

    def __init__(self, path: Path | None, balance_usd: float, seed: int | None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.rng = random.Random(seed)  # seed None → OS entropy
        self.requests: Counter[str] = Counter()
        self._balance = balance_usd
        self.data = self._load() or _fresh(balance_usd, self._token(32))
        self.save()

    def _load(self) -> dict[str, Any] | None:
        if self.path is None or not self.path.exists():
            return None
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _token(self, n_hex: int) -> str:
        return f"{self.rng.getrandbits(4 * n_hex):0{n_hex}x}"

    def new_id(self, prefix: str = "", n_hex: int = 32) -> str:
        """A fresh random id (seeded when the config has a seed), unique among stored videos."""
        with self.lock:
            while True:
                value = prefix + self._token(n_hex)
                if value not in self.data["videos"] and value not in self.data["endpoints"]:
                    return value

    def save(self) -> None:
        """Persist atomically when a path is set (no-op in memory)."""
        if self.path is None:
            return
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(self.data), encoding="utf-8")
            os.replace(tmp, self.path)

    def reset(self) -> None:
        """Forget videos, webhooks, events, counters; restore the starting balance."""
        with self.lock:
            self.data = _fresh(self._balance, self.data["secret"])
            self.requests.clear()
            self.save()

    def bump(self, counter: str, n: int = 1) -> None:
        """Increase a named counter of ``GET /_sandbox/stats``."""
        with self.lock:
            self.data["counters"][counter] = self.data["counters"].get(counter, 0) + n
            self.save()

    @property
    def secret(self) -> str:
        """The HMAC key of presigned file URLs."""
        return self.data["secret"]
