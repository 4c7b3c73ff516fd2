"""The HTTP session under :class:`core.heygen.client.HeyGenClient`: cache and retry policy.

Cache (requests-cache), per URL, first match wins:

| URL glob             | lifetime          | why                                                          |
|----------------------|-------------------|--------------------------------------------------------------|
| ``*/v3/voices``      | ``catalog_ttl_s`` | the catalog changes rarely and is ~2,300 voices in 24 pages  |
| ``*/v3/avatars``     | ``catalog_ttl_s`` | groups, looks and look details (same reasoning)              |
| ``*/v3/videos*``     | not cached        | statuses move and URLs are presigned: polls must see HeyGen  |
| ``*/v3/users/me``    | 5 s               | damps page reruns in several tabs; a balance ≤5 s old is fine |
| ``*/v3/webhooks*``   | not cached        | endpoint management must always be current                   |
| anything else        | not cached        |                                                              |

Only ``GET`` responses with status 200 are stored. ``stale_if_error`` serves an expired
catalog page when HeyGen fails or cannot be reached. The API key (``X-Api-Key`` in any of
the spellings HeyGen accepts, and ``Authorization``) is excluded from cache keys and stored
as ``REDACTED`` — requests-cache's redaction is case-sensitive, hence the explicit list.

Cache keys treat every loopback name alike (see :func:`cache_key`) but keep the port, so a
sandbox on another port never gets pages whose media URLs point at the old one.

A cache that cannot be used never takes HeyGen calls down (:func:`open_cache`): a damaged SQLite file is
moved aside (``<name>.damaged-<unix time>``) and rebuilt, and an unreachable Redis server means running
without a cache; either way the session's ``cache_warning`` says so in one sentence.

Retries (urllib3, see :class:`HeyGenRetry`) follow HeyGen's official CLI: ``429`` for every
method; ``5xx``, connection failures, dropped connections and read timeouts only for
``GET``/``DELETE`` (both idempotent, so a repeat is harmless); ``Retry-After`` honoured up to 30 s, exponential back-off 1 s × 2^n with ±25 % jitter.
"""

from __future__ import annotations

import hashlib
import logging
import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests_cache import DEFAULT_IGNORED_PARAMS, DO_NOT_CACHE, CachedSession, create_key
from requests_cache.backends import RedisCache
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry

#: Longest pause honoured from a ``Retry-After`` header or back-off, in seconds.
RETRY_AFTER_MAX_S = 30
#: Statuses retried by the transport (429 for every method, the rest for GET/DELETE only).
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: Methods whose 5xx answers and connection failures are retried by the transport.
IDEMPOTENT_METHODS = frozenset({"GET", "DELETE"})
#: Cache lifetime of ``GET /v3/users/me`` in seconds.
USER_TTL_S = 5
#: Headers that carry credentials: never in a cache key, stored as ``REDACTED``.
SECRET_HEADERS = ("X-Api-Key", "x-api-key", "X-API-KEY", "Authorization", "authorization")
#: How long Redis keeps an entry after it expires, so ``stale_if_error`` can still serve it (7 days).
REDIS_STALE_KEEP_S = 7 * 24 * 3600

#: Seconds allowed to connect to (and answer from) a Redis cache before running without it.
REDIS_TIMEOUT_S = 2.0

log = logging.getLogger(__name__)

_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}


class HeyGenRetry(Retry):
    """urllib3 ``Retry`` with HeyGen's policy.

    * ``429`` is retried for **any** method (HeyGen rejected the request without processing it).
    * ``5xx`` in ``status_forcelist`` and errors before a response (connection refused, DNS)
      only for methods in ``allowed_methods`` (``GET``, ``DELETE``); a ``POST`` fails at once so
      the caller decides (``POST /v3/videos`` retries itself only with an ``Idempotency-Key``).
    * Back-off: ``backoff_factor`` × 2^(n−1) × uniform(0.75, 1.25) before retry n, at most
      ``backoff_max``; a ``Retry-After`` header replaces it, capped at ``retry_after_max``.
    """

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """True for 429 whatever the method; otherwise urllib3's method and status rules."""
        if status_code == 429:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        """Count one retry; an error on a non-idempotent method ends retrying at once.

        Raises:
            urllib3.exceptions.MaxRetryError: retries are exhausted, or ``error`` happened on
                a method outside ``allowed_methods`` (requests turns it into ``ConnectionError``).
        """
        if error is not None and method and not self._is_method_retryable(method):
            raise MaxRetryError(_pool, url, error) from error
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        """Seconds to wait before the next retry: 1 s, 2 s, 4 s … (× factor) with ±25 % jitter."""
        attempts = len(self.history)
        if attempts == 0 or self.backoff_factor <= 0:
            return 0.0
        value = self.backoff_factor * (2 ** (attempts - 1)) * random.uniform(0.75, 1.25)
        return float(min(self.backoff_max, value))


def build_retry(max_retries: int = 2) -> HeyGenRetry:
    """The retry policy of every HeyGen call: ``max_retries`` retries in total (not attempts).

    Read errors (a dropped connection, a read timeout) are retried like connection errors, for
    ``GET``/``DELETE`` only: repeating an idempotent read is harmless, and a ``POST`` is never
    repeated by the transport. ``raise_on_status`` is off so the final error response reaches the client, which maps it to a typed error.
    """
    return HeyGenRetry(
        total=max_retries,
        redirect=5,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=IDEMPOTENT_METHODS,
        backoff_factor=1.0,
        backoff_max=RETRY_AFTER_MAX_S,
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_MAX_S,
        raise_on_status=False,
    )


def mount_retries(session: requests.Session, max_retries: int = 2) -> requests.Session:
    """Mount an ``HTTPAdapter`` with :func:`build_retry` on ``http://`` and ``https://``."""
    adapter = HTTPAdapter(max_retries=build_retry(max_retries))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def canonical_url(url: str) -> str:
    """``url`` with loopback names unified and scheme/host in lower case; the port is kept.

    ``http://localhost:8787/v3/voices?limit=100`` becomes ``http://127.0.0.1:8787/v3/voices?limit=100``.
    The port stays part of the key because a sandbox's responses carry absolute media URLs on
    its own port: a sandbox on another port must not be served pages that point at the old one.
    (The in-process sandbox keeps port 8787 across restarts, so a restart still reads the cache.)
    ``https://api.heygen.com/…`` keeps its host, so live and sandbox entries never mix even in one
    shared Redis database.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in _LOOPBACK_HOSTS or host.startswith("127."):
        host = "127.0.0.1"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))


def account_of(request) -> str:
    """A fingerprint of the HeyGen account a request speaks for: SHA-256 of its API key, 16 hex digits.

    Empty without a key. The key itself is never part of a cache key or stored anywhere by the cache.
    """
    headers = getattr(request, "headers", None) or {}
    key = headers.get("X-Api-Key") or headers.get("Authorization") or ""
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:16] if key else ""


def cache_key(request, **kwargs) -> str:
    """requests-cache ``key_fn``: :func:`requests_cache.create_key` over :func:`canonical_url`, per account.

    Accounts differ in their private voices and avatar looks, so the account fingerprint
    (:func:`account_of`) is part of the key: one account is never served another's catalog.
    """
    canonical = request.copy()
    canonical.url = canonical_url(request.url)
    base = create_key(canonical, **kwargs)
    account = account_of(request)
    return hashlib.sha256(f"{base}:{account}".encode()).hexdigest()[:16] if account else base


def expiry_rules(catalog_ttl_s: float) -> dict[str, float | int]:
    """``urls_expire_after`` for HeyGen v3 (see the module table); values in seconds."""
    return {
        "*/v3/voices": catalog_ttl_s,
        "*/v3/avatars": catalog_ttl_s,
        "*/v3/videos*": DO_NOT_CACHE,
        "*/v3/users/me": USER_TTL_S,
        "*/v3/webhooks*": DO_NOT_CACHE,
    }


def _redacted(url: str) -> str:
    """``url`` without its password (``redis://:***@host:6379/0``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _sqlite_damage(path: Path) -> str | None:
    """Why the SQLite file at ``path`` cannot be used as a cache, or ``None`` (also when it does not exist)."""
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()
    except sqlite3.OperationalError as exc:
        return None if "locked" in str(exc) else f"{type(exc).__name__}: {exc}"
    except sqlite3.DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if verdict and verdict[0] == "ok" else f"quick_check: {verdict[0] if verdict else 'no answer'}"


def move_aside(path: Path) -> Path:
    """Rename a damaged cache file (and its ``-wal``/``-shm`` companions) to ``<name>.damaged-<unix time>``."""
    target = path.with_name(f"{path.name}.damaged-{int(time.time())}")
    for suffix in ("", "-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(target.with_name(target.name + suffix))
    return target


def open_cache(cache_location: str | None) -> tuple[object, str | None]:
    """The requests-cache backend for ``cache_location`` and a warning sentence when it had to fall back.

    ``None`` → ``"memory"``; ``redis://``/``rediss://`` → a :class:`RedisCache` after a ping (unreachable:
    ``"memory"`` with the cache disabled by :func:`build_session`); else ``"sqlite"`` at that path, a
    damaged file first moved aside.
    """
    if cache_location is None:
        return "memory", None
    if cache_location.startswith(("redis://", "rediss://")):
        import redis

        connection = redis.Redis.from_url(cache_location, socket_connect_timeout=REDIS_TIMEOUT_S,
                                          socket_timeout=REDIS_TIMEOUT_S)
        try:
            connection.ping()
        except (redis.RedisError, OSError) as exc:
            warning = (f"The HTTP cache at {_redacted(cache_location)} cannot be reached ({type(exc).__name__}); "
                       "running without a cache until the app restarts.")
            log.warning(warning)
            return None, warning
        return RedisCache(connection=connection, ttl_offset=REDIS_STALE_KEEP_S), None
    path = Path(cache_location).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    damage = _sqlite_damage(path)
    if damage is None:
        return "sqlite", None
    target = move_aside(path)
    warning = f"The HTTP cache file {path} was damaged ({damage}); it was moved to {target.name} and rebuilt."
    log.warning(warning)
    return "sqlite", warning


def build_session(cache_location: str | None, *, catalog_ttl_s: float, max_retries: int = 2) -> CachedSession:
    """A ``CachedSession`` with HeyGen's cache rules and retry policy (module docstring).

    Args:
        cache_location: ``None`` → in-memory cache; ``"redis://…"``/``"rediss://…"`` → Redis
            (shared by replicas); anything else → a SQLite file path (parent folder created,
            WAL mode, safe across threads and processes).
        catalog_ttl_s: lifetime of voice and avatar catalog responses, in seconds.
        max_retries: transport retries per request (not counting the first attempt).

    The session's ``cache_warning`` is ``None``, or one sentence when the cache had to fall back
    (see :func:`open_cache`).
    """
    backend, warning = open_cache(cache_location)
    disabled = backend is None
    backend = backend or "memory"
    options = {"wal": True} if backend == "sqlite" else {}
    session = CachedSession(
        cache_name=str(Path(cache_location).expanduser()) if backend == "sqlite" else "http_cache",
        backend=backend,
        expire_after=DO_NOT_CACHE,
        urls_expire_after=expiry_rules(catalog_ttl_s),
        allowable_methods=("GET",),
        allowable_codes=(200,),
        stale_if_error=True,
        ignored_parameters=[*DEFAULT_IGNORED_PARAMS, *SECRET_HEADERS],
        key_fn=cache_key,
        **options,
    )
    session.settings.disabled = disabled
    session.cache_warning = warning  # type: ignore[attr-defined]
    return mount_retries(session, max_retries)


def disable_cache(session: requests.Session, reason: str) -> str:
    """Stop using ``session``'s cache after it failed mid-run; returns (and sets) its ``cache_warning``."""
    warning = f"The HTTP cache stopped working ({reason}); running without a cache until the app restarts."
    if isinstance(session, CachedSession):
        session.settings.disabled = True
    session.cache_warning = warning  # type: ignore[attr-defined]
    log.warning(warning)
    return warning
