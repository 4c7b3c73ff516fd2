"""Loading the catalog from HeyGen (through the HTTP cache) and the process-wide store that shares it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.access.actor import Actor
from core.access.permissions import Action, PermissionDenied, require
from core.catalog.index import CatalogIndex
from core.heygen.types import AvatarLook, Voice


@dataclass
class Catalog:
    """A loaded catalog: raw typed objects, their index, and when HeyGen produced them.

    ``fetched_at`` is the (oldest) fetch time of the cached responses when the client reports it, else
    None; ``from_cache`` is True when that time predates this load (no fresh HeyGen call was needed).
    """

    voices: list[Voice]
    looks: list[AvatarLook]
    index: CatalogIndex
    fetched_at: datetime | None = None
    from_cache: bool = False
    #: HeyGen failed or was unreachable, so (part of) this catalog is an expired cached copy.
    stale: bool = False


Progress = Callable[[float, str], None]
_EXPECTED = {"voices": 2500, "looks": 1500}  # rough catalog sizes, only to pace the progress bar


def _phase_progress(progress: Progress | None, kind: str, start: float, span: float):
    """Map the client's per-page ``(done_count, has_more)`` onto ``progress(fraction, message)``."""
    if progress is None:
        return None

    def report(done_count: int, has_more: bool = False, *_: Any) -> None:
        part = min(done_count / _EXPECTED[kind], 0.95) if has_more else 1.0
        progress(start + span * part, f"Loading {kind}… {done_count:,} so far")

    return report


def _fetched_at(client: Any) -> datetime | None:
    getter = getattr(client, "catalog_fetched_at", None)
    if not callable(getter):
        return None
    stamps = [t for t in (getter("voices"), getter("looks")) if isinstance(t, datetime)]
    return min(stamps, key=_as_utc) if stamps else None


def _as_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def load_catalog(client: Any, *, refresh: bool = False, progress: Progress | None = None) -> Catalog:
    """Fetch voices (``GET /v3/voices``, all pages of private then public) and looks
    (``GET /v3/avatars/looks``, all pages).

    Calls on a cold cache: ⌈private/100⌉ + ⌈public/100⌉ + ⌈looks/50⌉ (1 + 24 + 26 for the
    2026 catalog); none while the cache is fresh.

    ``client`` is a ``core.heygen.HeyGenClient`` (``list_voices``/``list_avatar_looks`` with
    ``refresh=`` and ``progress=``; optional ``catalog_fetched_at(kind)``). ``refresh`` bypasses the
    HTTP cache. ``progress(fraction 0..1, message)``: voices fill 0–0.5, looks 0.5–1.0.
    Raises the client's ``HeyGenError`` subclasses unchanged.
    """
    started = datetime.now(UTC)
    if progress:
        progress(0.0, "Loading voices…")
    # GET /v3/voices lists public voices unless asked for the account's private ones (clones).
    private = client.list_voices(type="private", refresh=refresh)
    stale = bool(getattr(client, "last_stale", False))
    public = client.list_voices(refresh=refresh, progress=_phase_progress(progress, "voices", 0.0, 0.5))
    stale = stale or bool(getattr(client, "last_stale", False))
    seen: set[str] = set()
    voices = [v for v in (*private, *public) if not (v.voice_id in seen or seen.add(v.voice_id))]
    looks = client.list_avatar_looks(refresh=refresh, progress=_phase_progress(progress, "looks", 0.5, 0.5))
    stale = stale or bool(getattr(client, "last_stale", False))
    if progress:
        progress(1.0, f"Loaded {len(voices):,} voices and {len(looks):,} looks")
    fetched = _fetched_at(client)
    from_cache = fetched is not None and _as_utc(fetched) < started
    return Catalog(list(voices), list(looks), CatalogIndex(voices, looks), fetched, from_cache or stale, stale)


class CatalogStore:
    """The process-wide catalog, shared by every page session and the embedded worker.

    The first :meth:`get` loads it through the client (and so through the HTTP cache); later
    calls return the same :class:`Catalog` until ``ttl_s`` seconds have passed or ``refresh``
    is asked. Concurrent callers wait on one load instead of each walking HeyGen's pages.
    """

    def __init__(self, client: Any, ttl_s: float) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0

    @property
    def current(self) -> Catalog | None:
        """The loaded catalog, or ``None`` before the first load (never triggers one)."""
        return self._catalog

    #: A stale catalog (HeyGen was unreachable) is retried after this many seconds.
    STALE_RETRY_S = 300.0

    def is_fresh(self) -> bool:
        """True when a loaded catalog younger than ``ttl_s`` seconds (5 minutes if stale) is in memory."""
        if self._catalog is None:
            return False
        ttl = min(self.ttl_s, self.STALE_RETRY_S) if self._catalog.stale else self.ttl_s
        return time.monotonic() - self._loaded_at < ttl

    def get(self, *, refresh: bool = False, progress: Progress | None = None, actor: Actor | None = None) -> Catalog:
        """The catalog, loading it first when missing, too old, or ``refresh`` is True.

        ``refresh`` (past the HTTP cache) is an admin's action: it needs ``actor``.

        Raises:
            PermissionDenied: ``refresh`` without an ``actor`` allowed to refresh the catalog.
            HeyGenError subclasses when a load is needed and HeyGen (and the cache) cannot serve it.
        """
        if refresh:
            if actor is None:
                raise PermissionDenied("Only an admin can refresh the catalog.", action=Action.REFRESH_CATALOG,
                                       actor_name="")
            require(actor, Action.REFRESH_CATALOG)
        with self._lock:
            if refresh or not self.is_fresh():
                self._catalog = load_catalog(self.client, refresh=refresh, progress=progress)
                self._loaded_at = time.monotonic()
            return self._catalog
