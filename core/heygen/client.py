"""HeyGen v3 REST client: typed objects in, typed objects and typed errors out.

Transport rules (see :mod:`core.heygen.session` for cache and retry details):

* Every call sends ``X-Api-Key`` per request (never in session headers, logs, errors or the
  cache) and has a timeout: 5 s to connect, ``timeout_s`` to read (120 s for POSTs).
* Failures become :class:`~core.heygen.errors.HeyGenError` subclasses. HeyGen's envelope
  ``{"error": {"code", "message", "param", "doc_url"}}`` is read when present; gateway HTML,
  empty bodies and the codes ``""``/``"error"`` are classified by HTTP status. Codes are
  compared case-insensitively. No response at all → :class:`NetworkError`; a 2xx body that is
  not JSON or not HeyGen's envelope → :class:`MalformedResponseError`.
* ``POST`` is never retried on 5xx or timeouts unless an ``Idempotency-Key`` is attached: then
  the same key is re-sent up to ``max_retries`` times on 5xx, network errors and 409
  ``request_in_progress`` (HeyGen replays the original response for a repeated key).

Threads: ``requests.Session`` is not thread-safe, so each client holds a lock around every
HTTP exchange; a shared client is safe but serialises its calls. Long-running threads (the
worker) should build their own client on the same cache location.
"""

from __future__ import annotations

import email.utils
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import pydantic
import redis
import requests
from requests_cache import CachedSession

from core.config import mask_secret
from core.heygen import uploads
from core.heygen.errors import (
    HeyGenError,
    MalformedKeyError,
    MalformedResponseError,
    NetworkError,
    PayloadTooLargeError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
    error_class_for,
)
from core.heygen.session import RETRY_AFTER_MAX_S, build_session, disable_cache, mount_retries
from core.heygen.types import (
    Asset,
    AvatarConsent,
    AvatarGroup,
    AvatarLook,
    CreatedAvatar,
    CreatedVideo,
    CurrentUser,
    Speech,
    UploadedAsset,
    Video,
    VideoStatusItem,
    Voice,
    VoiceDetail,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)

#: Seconds allowed to open a connection.
CONNECT_TIMEOUT_S = 5.0
#: Read timeout of POST calls (video create, TTS), in seconds — HeyGen's CLI uses 120 s for writes.
WRITE_TIMEOUT_S = 120.0
#: Page sizes (HeyGen maxima): voices, videos, webhooks 100; avatar groups and looks 50.
VOICES_PAGE = 100
AVATARS_PAGE = 50
VIDEOS_PAGE = 100
ASSETS_PAGE = 100
#: Ids per ``GET /v3/videos/statuses`` call.
STATUS_CHUNK = 100
#: Safety stop for pagination that never ends.
MAX_PAGES = 1000
#: First wait before re-sending a key that is still ``request_in_progress``, in seconds.
IN_PROGRESS_WAIT_S = 2.0

#: Called after every page with (items so far, whether more pages follow).
Progress = Callable[[int, bool], None]
#: Called while an upload is sent, with (bytes sent, total bytes of the request body).
UploadProgress = Callable[[int, int], None]
Model = TypeVar("Model", bound=pydantic.BaseModel)

_STATUS_CODES = {
    400: "validation_error",
    401: "unauthorized",
    402: "insufficient_credit",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
}
_CATALOG_PATHS = {
    "voices": ("/v3/voices", VOICES_PAGE),
    "groups": ("/v3/avatars", AVATARS_PAGE),
    "looks": ("/v3/avatars/looks", AVATARS_PAGE),
}

_sleep = time.sleep  # replaced in tests


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: integer seconds or an HTTP date; ``None`` if absent/bad.

    Not capped: the value is what HeyGen asked for (the transport caps its own sleeps at 30 s).
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def scrub(text: str | None, secret: str | None) -> str | None:
    """``text`` with every occurrence of ``secret`` replaced by its mask."""
    if text and secret and secret in text:
        return text.replace(secret, mask_secret(secret))
    return text


def _error_fields(response: requests.Response) -> tuple[str, str, str | None]:
    """(code, message, param) from HeyGen's error envelope; ``("", "", None)`` for other bodies."""
    try:
        body = response.json()
    except ValueError:
        return "", "", None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", None
    param = error.get("param")
    return str(error.get("code") or ""), str(error.get("message") or ""), (str(param) if param else None)


def status_code_name(status: int) -> str:
    """The code HeyGen's CLI derives from a bare status (``404`` → ``not_found``, 5xx → ``internal_error``)."""
    if status >= 500:
        return "internal_error"
    return _STATUS_CODES.get(status, f"http_{status}")


def error_from_response(response: requests.Response, secret: str | None = None) -> HeyGenError:
    """The typed error for a non-2xx ``response`` (never raises); ``secret`` is masked in its text."""
    status = response.status_code
    code, message, param = _error_fields(response)
    if code.strip().lower() in ("", "error"):
        code = status_code_name(status)
    cls = error_class_for(status, code)
    fields = {
        "status": status,
        "code": code.lower(),
        "message": scrub(message, secret) or "",
        "param": scrub(param, secret),
        "request_id": response.headers.get("X-Request-Id"),
    }
    if issubclass(cls, RateLimitError):
        return cls(retry_after=parse_retry_after(response.headers.get("Retry-After")), **fields)
    return cls(**fields)


#: Errors of a cache backend (not of HeyGen): the call is repeated without the cache.
_CACHE_ERRORS = (sqlite3.DatabaseError, redis.RedisError)


def key_problem(api_key: str) -> str | None:
    """One sentence saying why ``api_key`` cannot be sent as an ``X-Api-Key`` header, or ``None`` when it can.

    A line break (``\\r``/``\\n``), a tab or space, another control character or a non-ASCII character (a
    typographic dash pasted from a document) cannot travel in an HTTP header.
    """
    if "\n" in api_key or "\r" in api_key:
        return MalformedKeyError.default_sentence
    if any(ch.isspace() for ch in api_key):
        return "The HeyGen API key contains a space or tab; set HEYGEN_API_KEY again without it."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in api_key) or not api_key.isascii():
        return ("The HeyGen API key contains a character that is not plain ASCII text; "
                "copy it again from HeyGen and set HEYGEN_API_KEY.")
    return None


def network_error(exc: requests.RequestException, url: str) -> NetworkError:
    """A :class:`NetworkError` for a request that got no usable response (text without secrets)."""
    host = urlsplit(url).hostname or "HeyGen"
    what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
    return NetworkError(None, "network_error", f"{what} ({type(exc).__name__} reaching {host})")


def _payload(response: requests.Response) -> dict[str, Any]:
    """The JSON object of a 2xx response; an empty body gives ``{}``.

    Raises:
        MalformedResponseError: the body is not JSON or not a JSON object.
    """
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise MalformedResponseError(response.status_code, "malformed_response", "the body is not a JSON object",
                                     request_id=response.headers.get("X-Request-Id"))
    return body


def _data(payload: dict[str, Any], kind: type) -> Any:
    """``payload["data"]`` checked to be a ``kind`` (dict or list).

    Raises:
        MalformedResponseError: ``data`` is missing or of another type.
    """
    data = payload.get("data")
    if not isinstance(data, kind):
        raise MalformedResponseError(None, "malformed_response", f"expected data to be a {kind.__name__}")
    return data


def _parse(model: type[Model], item: Any) -> Model:
    """``model`` validated from ``item``; a shape HeyGen should never send → :class:`MalformedResponseError`."""
    try:
        return model.model_validate(item)
    except pydantic.ValidationError:
        raise MalformedResponseError(None, "malformed_response", f"unexpected {model.__name__} shape") from None


def _parse_items(model: type[Model], items: list[Any]) -> list[Model]:
    """Catalog items as ``model``; an item HeyGen sent in an unusable shape is skipped and logged,
    so one broken entry never hides the whole catalog.

    Raises:
        MalformedResponseError: not one item of a non-empty list could be read (the format changed).
    """
    parsed, skipped = [], 0
    for item in items:
        try:
            parsed.append(model.model_validate(item))
        except pydantic.ValidationError:
            skipped += 1
    if items and not parsed:
        raise MalformedResponseError(None, "malformed_response", f"unexpected {model.__name__} shape")
    if skipped:
        log.warning("skipped %d of %d %s entries HeyGen sent in an unexpected shape", skipped, len(items),
                    model.__name__)
    return parsed


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ``None`` values."""
    return {k: v for k, v in values.items() if v is not None}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _retry_delay(exc: HeyGenError, attempt: int) -> float:
    """Seconds before re-sending an idempotent POST (attempt 0 = first retry), at most 30 s."""
    if isinstance(exc, RequestInProgressError):
        return IN_PROGRESS_WAIT_S * (attempt + 1)
    return min(RETRY_AFTER_MAX_S, (2 ** attempt) * random.uniform(0.75, 1.25))


class HeyGenClient:
    """HeyGen v3 over one cached, retrying HTTP session (see the module docstring).

    Args:
        api_key: the HeyGen API key (or the sandbox key); sent as ``X-Api-Key`` only.
        base_url: ``https://api.heygen.com`` or the sandbox's ``http://127.0.0.1:PORT``.
        cache_location: ``None`` → in-memory cache; ``"redis://…"`` → Redis; else a SQLite file.
        catalog_ttl_s: how long catalog responses are reused, in seconds (default 18 h).
        timeout_s: read timeout of GET/DELETE calls, in seconds.
        max_retries: retries after the first attempt (transport and idempotent POSTs).
        session: a ready ``requests.Session`` (tests); ``cache_location``/``catalog_ttl_s`` are
            then ignored and the session's own cache/retry set-up is used.
        observer: told of every exchange that reached the network (not cache hits), e.g. a
            :class:`core.jobs.metrics.Metrics`: ``observe_heygen(method, path, status, retried_statuses=…,
            replayed=…)`` (``status`` ``None`` when no answer came) and ``observe_heygen_retry(method, path,
            reason)`` for each idempotent re-send.

    Attributes:
        last_from_cache: whether every page of the last catalog listing came from the cache.
        last_response_from_cache: whether the last HTTP response came from the cache.
        last_stale: whether the last catalog listing was served from an expired cache entry
            because HeyGen failed or could not be reached (``stale_if_error``).
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.heygen.com",
        *,
        cache_location: str | None = None,
        catalog_ttl_s: float = 64800,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        session: requests.Session | None = None,
        observer: Any = None,
    ) -> None:
        self._api_key = api_key
        self.observer = observer
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._session = session or build_session(cache_location, catalog_ttl_s=catalog_ttl_s,
                                                 max_retries=max_retries)
        self._lock = threading.RLock()
        self._fetched_at: dict[str, datetime] = {}
        self.last_from_cache = False
        self.last_response_from_cache = False
        self.last_stale = False

    def __repr__(self) -> str:
        return f"HeyGenClient(base_url={self.base_url!r}, api_key={mask_secret(self._api_key)!r})"

    @property
    def cache_warning(self) -> str | None:
        """One sentence when the HTTP cache could not be used (damaged file moved aside, Redis unreachable,
        failure mid-run), else ``None``."""
        return getattr(self._session, "cache_warning", None)

    def close(self) -> None:
        """Close the HTTP session (and its cache connection)."""
        self._session.close()

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
              headers: dict | None = None, read_timeout: float | None = None,
              force_refresh: bool = False) -> requests.Response:
        """One HTTP exchange with the key attached; non-2xx answers raise their typed error.

        Raises:
            HeyGenError: the subclass for the status/code; NetworkError without a response;
                MalformedKeyError (nothing sent) when the key cannot travel in a header.
        """
        problem = key_problem(self._api_key)
        if problem:
            raise MalformedKeyError(None, "malformed_api_key", problem)
        url = self.base_url + path
        all_headers = {"X-Api-Key": self._api_key, "Accept": "application/json", **(headers or {})}
        extra = {"force_refresh": True} if force_refresh and isinstance(self._session, CachedSession) else {}
        timeout = (CONNECT_TIMEOUT_S, read_timeout or self.timeout_s)
        try:
            with self._lock:
                try:
                    response = self._session.request(method, url, params=params, json=json,
                                                     headers=all_headers, timeout=timeout, **extra)
                except _CACHE_ERRORS as exc:  # the cache broke mid-run: carry on without it
                    disable_cache(self._session, type(exc).__name__)
                    response = self._session.request(method, url, params=params, json=json,
                                                     headers=all_headers, timeout=timeout, **extra)
        except requests.RequestException as exc:
            log.info("HeyGen %s %s got no answer: %s", method, path, type(exc).__name__)
            if self.observer is not None:
                self.observer.observe_heygen(method, path, None)
            raise network_error(exc, url) from exc
        from_cache = bool(getattr(response, "from_cache", False))
        self.last_response_from_cache = from_cache
        request_id = response.headers.get("X-Request-Id")
        if not from_cache:
            self._observe(method, path, response)
        quiet = response.ok and method == "GET"  # reads are many; writes and failures are worth a line
        log.log(logging.DEBUG if quiet else logging.INFO, "HeyGen %s %s -> %s request_id=%s from_cache=%s",
                method, path, response.status_code, request_id, from_cache,
                extra={"heygen_request_id": request_id})
        if not response.ok:
            raise error_from_response(response, self._api_key)
        return response

    def _observe(self, method: str, path: str, response: requests.Response) -> None:
        """Tell the observer about a network answer and the answers urllib3 retried before it."""
        if self.observer is None:
            return
        history = getattr(getattr(getattr(response, "raw", None), "retries", None), "history", ()) or ()
        self.observer.observe_heygen(method, path, response.status_code,
                                     retried_statuses=[h.status for h in history],
                                     replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true")

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """:meth:`_send` and return the JSON object body (``{}`` for an empty body)."""
        return _payload(self._send(method, path, **kwargs))

    def _paginate(self, path: str, params: dict[str, Any], *, page_size: int, progress: Progress | None = None,
                  refresh: bool = False, max_items: int | None = None) -> tuple[list[dict], bool, datetime]:
        """Every item of a v3 list endpoint, following ``next_token`` → ``token``.

        Once a page comes from HeyGen rather than the cache, later pages are fetched fresh too, so
        one listing never mixes old and new catalog pages.

        Returns:
            (raw items, whether every page came from the cache, when the oldest page was fetched).
        """
        items: list[dict] = []
        token: str | None = None
        all_cached, force, fetched_at = True, refresh, datetime.now(UTC)
        self.last_stale = False
        for _ in range(MAX_PAGES):
            query = {**params, "limit": page_size, **({"token": token} if token else {})}
            response = self._send("GET", path, params=query, force_refresh=force)
            payload = _payload(response)
            items.extend(_data(payload, list))
            from_cache = bool(getattr(response, "from_cache", False))
            self.last_stale = self.last_stale or (from_cache and bool(getattr(response, "is_expired", False)))
            all_cached, force = all_cached and from_cache, force or not from_cache
            fetched_at = min(fetched_at, getattr(response, "created_at", None) or fetched_at)
            token = payload.get("next_token") if payload.get("has_more") else None
            done = bool(max_items and len(items) >= max_items)
            if progress:
                progress(len(items), bool(token) and not done)
            if not token or done:
                break
        return (items[:max_items] if max_items else items), all_cached, fetched_at

    def _catalog(self, kind: str, params: dict[str, Any], progress: Progress | None, refresh: bool) -> list[dict]:
        """A whole catalog listing; records :attr:`last_from_cache` and the fetch time of ``kind``."""
        path, page_size = _CATALOG_PATHS[kind]
        items, all_cached, fetched_at = self._paginate(path, params, page_size=page_size, progress=progress,
                                                       refresh=refresh)
        self.last_from_cache = all_cached
        if not params:
            self._fetched_at[kind] = fetched_at
        return items

    def _post_idempotent(self, path: str, body: Any, idempotency_key: str | None) -> dict[str, Any]:
        """POST ``body``; with a key, re-send the same key on 5xx, network errors and ``request_in_progress``.

        Without a key the POST is sent once (only a 429 is retried, by the transport): HeyGen
        may have processed it, and a blind repeat could create and bill a second video.
        """
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        attempts = 1 + (self.max_retries if idempotency_key else 0)
        for attempt in range(attempts):
            try:
                return self._request("POST", path, json=body, headers=headers, read_timeout=WRITE_TIMEOUT_S)
            except (ServerError, NetworkError, RequestInProgressError) as exc:
                if attempt + 1 >= attempts:
                    raise
                delay = _retry_delay(exc, attempt)
                if self.observer is not None:
                    self.observer.observe_heygen_retry("POST", path, exc.code)
                log.info("HeyGen POST %s failed (%s); re-sending the same Idempotency-Key in %.1f s",
                         path, exc.code, delay)
                _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- catalog ---------------------------------------------------------------------------

    def list_voices(self, *, type: str | None = None, engine: str | None = None, language: str | None = None,
                    gender: str | None = None, progress: Progress | None = None,
                    refresh: bool = False) -> list[Voice]:
        """All voices: ``GET /v3/voices`` paged with ``limit=100`` and ``token``.

        Args:
            type: ``public`` (HeyGen's default) or ``private``; engine: e.g. ``starfish``;
                language: a language name (``English``); gender: ``male``/``female``.
            progress: called after each page with (voices so far, more pages follow).
            refresh: bypass the cache and overwrite it (Settings → refresh catalog).

        Raises:
            HeyGenError subclasses (AuthenticationError, NetworkError, MalformedResponseError …).
        """
        params = _params(type=type, engine=engine, language=language, gender=gender)
        return _parse_items(Voice, self._catalog("voices", params, progress, refresh))

    def list_avatar_groups(self, *, ownership: str | None = None, progress: Progress | None = None,
                           refresh: bool = False) -> list[AvatarGroup]:
        """All avatar groups (characters): ``GET /v3/avatars`` paged with ``limit=50``.

        Args:
            ownership: ``public``, ``private`` or ``None`` for both.

        Raises:
            HeyGenError subclasses.
        """
        items = self._catalog("groups", _params(ownership=ownership), progress, refresh)
        return _parse_items(AvatarGroup, items)

    def list_avatar_looks(self, *, group_id: str | None = None, avatar_type: str | None = None,
                          ownership: str | None = None, progress: Progress | None = None,
                          refresh: bool = False) -> list[AvatarLook]:
        """All looks (the ``avatar_id`` values of scenes): ``GET /v3/avatars/looks`` paged with ``limit=50``.

        Args:
            group_id: only one group's looks; avatar_type: ``studio_avatar``/``digital_twin``/
                ``photo_avatar``; ownership: ``public``/``private``.

        Raises:
            HeyGenError subclasses.
        """
        params = _params(group_id=group_id, avatar_type=avatar_type, ownership=ownership)
        return _parse_items(AvatarLook, self._catalog("looks", params, progress, refresh))

    def get_avatar_look(self, look_id: str) -> AvatarLook:
        """One look: ``GET /v3/avatars/looks/{look_id}`` (cached like the catalog).

        Raises:
            NotFoundError: unknown look; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/avatars/looks/{quote(look_id, safe='')}")
        return _parse(AvatarLook, _data(payload, dict))

    def catalog_fetched_at(self, kind: str) -> datetime | None:
        """When the unfiltered ``kind`` catalog (``voices``, ``groups`` or ``looks``) was fetched from HeyGen.

        Taken from the last full listing in this client, else from the cached first page
        (``created_at``, UTC); ``None`` when nothing is cached. Makes no HTTP call.
        """
        if kind in self._fetched_at:
            return self._fetched_at[kind]
        cache = getattr(self._session, "cache", None)
        if cache is None:
            return None
        path, page_size = _CATALOG_PATHS[kind]
        request = requests.Request("GET", self.base_url + path, params={"limit": page_size}).prepare()
        cached = cache.get_response(cache.create_key(request))
        return cached.created_at if cached is not None else None

    # -- videos ----------------------------------------------------------------------------

    def create_video(self, body: dict[str, Any], idempotency_key: str | None = None) -> CreatedVideo:
        """Start a render: ``POST /v3/videos`` with a ``studio`` or ``avatar`` body.

        ``body`` is sent unchanged (HeyGen rejects unknown fields). With ``idempotency_key``
        (1–255 chars of ``[A-Za-z0-9_-:.]``), 5xx/network errors and 409 ``request_in_progress``
        are retried up to ``max_retries`` times with the same key; without one, only 429.

        Returns:
            ``CreatedVideo(video_id, status="waiting", …)``.

        Raises:
            InvalidRequestError (``param`` names the field), InsufficientCreditError,
            RateLimitError (``retry_after`` s; concurrency limit), ServerError, NetworkError, …
        """
        payload = self._post_idempotent("/v3/videos", body, idempotency_key)
        return _parse(CreatedVideo, _data(payload, dict))

    def get_video(self, video_id: str) -> Video:
        """One video with fresh presigned URLs: ``GET /v3/videos/{video_id}`` (never cached).

        Raises:
            NotFoundError: unknown or foreign id; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/videos/{quote(video_id, safe='')}")
        return _parse(Video, _data(payload, dict))

    def get_video_statuses(self, video_ids: list[str]) -> list[VideoStatusItem]:
        """Statuses of many videos: ``GET /v3/videos/statuses?video_ids=a,b,…`` in chunks of 100.

        Duplicate ids are asked once; an empty list makes no call. Unknown ids come back with
        ``status="not_found"``.

        Raises:
            HeyGenError subclasses.
        """
        unique = list(dict.fromkeys(video_ids))
        items: list[VideoStatusItem] = []
        for chunk in _chunks(unique, STATUS_CHUNK):
            payload = self._request("GET", "/v3/videos/statuses", params={"video_ids": ",".join(chunk)})
            items.extend(_parse(VideoStatusItem, item) for item in _data(payload, list))
        return items

    def list_videos(self, *, limit: int | None = None) -> list[Video]:
        """The account's videos: ``GET /v3/videos`` paged (100 per page); at most ``limit`` if given.

        Raises:
            HeyGenError subclasses.
        """
        page_size = min(limit, VIDEOS_PAGE) if limit else VIDEOS_PAGE
        items, _, _ = self._paginate("/v3/videos", {}, page_size=page_size, max_items=limit)
        return [_parse(Video, item) for item in items]

    def delete_video(self, video_id: str) -> None:
        """Delete a video permanently: ``DELETE /v3/videos/{video_id}``.

        Raises:
            NotFoundError: unknown id; other HeyGenError subclasses.
        """
        self._request("DELETE", f"/v3/videos/{quote(video_id, safe='')}")

    # -- speech and account ----------------------------------------------------------------

    def generate_speech(self, text: str, voice_id: str, *, speed: float | None = None, locale: str | None = None,
                        language: str | None = None, input_type: str | None = None) -> Speech:
        """Text to speech with a Starfish voice: ``POST /v3/voices/speech`` (billed per second).

        Args:
            text: 1–5,000 characters; speed: 0.5–2.0; locale: BCP-47 (overrides ``language``);
                language: base code such as ``en``; input_type: ``text`` or ``ssml``.

        Returns:
            ``Speech(audio_url, duration seconds, word_timestamps …)``.

        Raises:
            InvalidRequestError (e.g. ``param="voice_id"`` for a non-Starfish voice), others.
        """
        body = {"text": text, "voice_id": voice_id,
                **_params(speed=speed, locale=locale, language=language, input_type=input_type)}
        payload = self._request("POST", "/v3/voices/speech", json=body, read_timeout=WRITE_TIMEOUT_S)
        return _parse(Speech, _data(payload, dict))

    def get_current_user(self) -> CurrentUser:
        """The account and its balance: ``GET /v3/users/me`` (cached 5 s).

        Raises:
            AuthenticationError: bad key; other HeyGenError subclasses.
        """
        return _parse(CurrentUser, _data(self._request("GET", "/v3/users/me"), dict))

    # -- webhooks --------------------------------------------------------------------------

    def create_webhook_endpoint(self, url: str, events: list[str] | None = None, *,
                                idempotency_key: str | None = None) -> WebhookEndpoint:
        """Register an HTTPS receiver: ``POST /v3/webhooks/endpoints`` ``{url, events?}``.

        ``events=None`` subscribes to every event. The returned ``secret`` (``whsec_…``) is shown
        only here and on rotation.

        Raises:
            InvalidRequestError (bad URL or event type), others.
        """
        body = {"url": url, **({"events": events} if events is not None else {})}
        payload = self._post_idempotent("/v3/webhooks/endpoints", body, idempotency_key)
        return _parse(WebhookEndpoint, _data(payload, dict))

    def list_webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every registered endpoint (``secret`` is ``None``): ``GET /v3/webhooks/endpoints`` paged.

        Raises:
            HeyGenError subclasses.
        """
        items, _, _ = self._paginate("/v3/webhooks/endpoints", {}, page_size=100)
        return [_parse(WebhookEndpoint, item) for item in items]

    def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        """Remove an endpoint: ``DELETE /v3/webhooks/endpoints/{endpoint_id}``.

        Raises:
            NotFoundError, other HeyGenError subclasses.
        """
        self._request("DELETE", f"/v3/webhooks/endpoints/{quote(endpoint_id, safe='')}")

    def rotate_webhook_secret(self, endpoint_id: str, *, idempotency_key: str | None = None) -> WebhookEndpoint:
        """New signing secret (old one invalid at once): ``POST /v3/webhooks/endpoints/{id}/rotate-secret``.

        Returns:
            ``WebhookEndpoint(endpoint_id, secret, url="")`` — the response has no URL.

        Raises:
            NotFoundError, other HeyGenError subclasses.
        """
        path = f"/v3/webhooks/endpoints/{quote(endpoint_id, safe='')}/rotate-secret"
        return _parse(WebhookEndpoint, _data(self._post_idempotent(path, None, idempotency_key), dict))

    def list_webhook_event_types(self) -> list[dict[str, Any]]:
        """Subscribable events: ``GET /v3/webhooks/event-types`` → ``[{event_type, description}]``.

        Raises:
            HeyGenError subclasses.
        """
        return [dict(item) for item in _data(self._request("GET", "/v3/webhooks/event-types"), list)]

    # -- assets, photo avatars, voice clones ------------------------------------------------

    def upload_asset(self, source: str | Path | bytes, *, filename: str, content_type: str | None = None,
                     progress: UploadProgress | None = None, idempotency_key: str | None = None) -> UploadedAsset:
        """Upload a file: ``POST /v3/assets`` as ``multipart/form-data`` field ``file``, streamed from disk.

        See :mod:`core.heygen.uploads`: at most 32 MB (:data:`~core.heygen.uploads.ASSET_MAX_BYTES`;
        larger files are refused before anything is sent); HeyGen accepts png, jpeg, mp4, webm, mp3,
        wav, pdf and srt, and detects the type from the bytes. ``progress(sent_bytes, total_bytes)`` is
        called as the body goes out. With ``idempotency_key`` a 5xx, a dropped connection or 409
        ``request_in_progress`` re-sends the file with the same key (HeyGen then returns the first
        asset, never a second one); without one only 429 is retried.

        Args:
            source: a file path or the file's bytes; filename: the name HeyGen stores (no folders);
            content_type: e.g. ``audio/wav`` (default ``application/octet-stream``).

        Returns:
            ``UploadedAsset(asset_id, url, mime_type, size_bytes)``.

        Raises:
            PayloadTooLargeError (413 or over 32 MB locally), InvalidRequestError (400: empty file or
            an unsupported type, ``param="file"``), ServerError, NetworkError, other HeyGenError subclasses.
        """
        size = uploads.source_size(source)
        if size > uploads.ASSET_MAX_BYTES:
            raise PayloadTooLargeError(None, "payload_too_large",
                                       f"the file has {size:,} bytes; the limit is {uploads.ASSET_MAX_BYTES:,}")
        headers = {"X-Api-Key": self._api_key, "Accept": "application/json",
                   **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        attempts = 1 + self.max_retries
        for attempt in range(attempts):
            try:
                response = uploads.post_multipart(self.base_url + "/v3/assets", source, filename=filename,
                                                  content_type=content_type, headers=headers, progress=progress,
                                                  timeout=(CONNECT_TIMEOUT_S, uploads.UPLOAD_TIMEOUT_S))
                if not response.ok:
                    raise error_from_response(response, self._api_key)
                return _parse(UploadedAsset, _data(_payload(response), dict))
            except requests.RequestException as exc:
                error: HeyGenError = network_error(exc, self.base_url)
            except (RateLimitError, ServerError, RequestInProgressError) as exc:
                error = exc
            retryable = isinstance(error, RateLimitError) or bool(idempotency_key)
            if not retryable or attempt + 1 >= attempts:
                raise error
            delay = _retry_delay(error, attempt)
            if isinstance(error, RateLimitError) and error.retry_after:
                delay = min(RETRY_AFTER_MAX_S, max(delay, error.retry_after))
            log.info("HeyGen upload failed (%s); sending it again in %.1f s", error.code, delay)
            _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def get_asset(self, asset_id: str) -> Asset:
        """One uploaded asset: ``GET /v3/assets/{asset_id}`` (never cached).

        Raises:
            NotFoundError: unknown, deleted or foreign asset; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/assets/{quote(asset_id, safe='')}")
        return _parse(Asset, _data(payload, dict))

    def list_assets(self, username: str, *, limit: int | None = None) -> list[Asset]:
        """A member's assets, newest first: ``GET /v3/assets?username=…`` paged (100 per page, beta).

        ``username`` is required while HeyGen's endpoint is in beta (the ``owner`` of asset items,
        i.e. :meth:`get_current_user`'s ``username``); at most ``limit`` assets if given.

        Raises:
            InvalidRequestError (no username), other HeyGenError subclasses.
        """
        page_size = min(limit, ASSETS_PAGE) if limit else ASSETS_PAGE
        items, _, _ = self._paginate("/v3/assets", {"username": username}, page_size=page_size, max_items=limit)
        return [_parse(Asset, item) for item in items]

    def delete_asset(self, asset_id: str) -> None:
        """Delete an asset permanently: ``DELETE /v3/assets/{asset_id}``.

        Raises:
            NotFoundError: unknown or already deleted; other HeyGenError subclasses.
        """
        self._request("DELETE", f"/v3/assets/{quote(asset_id, safe='')}")

    def create_photo_avatar(self, name: str, asset_id: str, *, avatar_group_id: str | None = None,
                            idempotency_key: str | None = None) -> CreatedAvatar:
        """Train a photo avatar from an uploaded image: ``POST /v3/avatars`` ``{type: "photo", name, file}``.

        Training is asynchronous: the returned look has ``status="processing"``; poll
        :meth:`get_avatar_group` / :meth:`list_group_looks` until ``completed`` or ``failed``
        (``error {code, message}``). A group whose ``consent_status`` is not ``None``/``approved``
        needs :meth:`create_avatar_consent` before its looks can be used in videos.

        Args:
            name: the avatar's display name; asset_id: from :meth:`upload_asset` (a png or jpeg);
            avatar_group_id: add the look to an existing group instead of a new one.

        Raises:
            InvalidRequestError (``param`` names the field, e.g. an asset that is not an image),
            NotFoundError (unknown asset), other HeyGenError subclasses.
        """
        body: dict[str, Any] = {"type": "photo", "name": name, "file": {"type": "asset_id", "asset_id": asset_id}}
        if avatar_group_id:
            body["avatar_group_id"] = avatar_group_id
        return _parse(CreatedAvatar, _data(self._post_idempotent("/v3/avatars", body, idempotency_key), dict))

    def get_avatar_group(self, group_id: str) -> AvatarGroup:
        """One avatar group with its training ``status`` and ``consent_status``: ``GET /v3/avatars/{group_id}``.

        Always asks HeyGen (bypassing and refreshing the catalog cache), as it is used to watch training.

        Raises:
            NotFoundError: unknown group; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/avatars/{quote(group_id, safe='')}", force_refresh=True)
        return _parse(AvatarGroup, _data(payload, dict))

    def list_group_looks(self, group_id: str) -> list[AvatarLook]:
        """A group's looks with their training ``status``/``error``, fresh from HeyGen:
        ``GET /v3/avatars/looks?group_id=…`` (cache bypassed).

        Raises:
            HeyGenError subclasses.
        """
        items, _, _ = self._paginate("/v3/avatars/looks", {"group_id": group_id}, page_size=AVATARS_PAGE,
                                     refresh=True)
        return _parse_items(AvatarLook, items)

    def create_avatar_consent(self, group_id: str, *, reroute_url: str | None = None,
                              idempotency_key: str | None = None) -> AvatarConsent:
        """Start the consent flow of a private avatar: ``POST /v3/avatars/{group_id}/consent``.

        Returns the page ``url`` where the person shown approves in a browser; the group's
        ``consent_status`` changes once they have. ``reroute_url``: where HeyGen sends them afterwards.

        Raises:
            NotFoundError (unknown group), InvalidRequestError, other HeyGenError subclasses.
        """
        body = {"reroute_url": reroute_url} if reroute_url else {}
        path = f"/v3/avatars/{quote(group_id, safe='')}/consent"
        return _parse(AvatarConsent, _data(self._post_idempotent(path, body, idempotency_key), dict))

    def clone_voice(self, voice_name: str, asset_id: str, *, language: str | None = None,
                    remove_background_noise: bool | None = None) -> str:
        """Clone a voice from an uploaded recording: ``POST /v3/voices/clone`` ``{voice_name, audio}``.

        Returns the ``voice_clone_id``: poll :meth:`get_voice` until ``status`` is ``complete`` (then
        it is a private voice usable in speech and videos) or ``failed`` (``failure_message``).
        Sent once (HeyGen documents no Idempotency-Key for this endpoint).

        Args:
            language: a hint such as ``en`` (auto-detected when omitted);
            remove_background_noise: HeyGen's default is true.

        Raises:
            InvalidRequestError (e.g. the asset is not audio), NotFoundError, other HeyGenError subclasses.
        """
        body: dict[str, Any] = {"voice_name": voice_name, "audio": {"type": "asset_id", "asset_id": asset_id},
                                **_params(language=language, remove_background_noise=remove_background_noise)}
        payload = self._request("POST", "/v3/voices/clone", json=body, read_timeout=WRITE_TIMEOUT_S)
        data = _data(payload, dict)
        if not isinstance(data.get("voice_clone_id"), str):
            raise MalformedResponseError(None, "malformed_response", "expected a voice_clone_id")
        return data["voice_clone_id"]

    def get_voice(self, voice_id: str, *, refresh: bool = False) -> VoiceDetail:
        """One voice, including a clone's ``status``: ``GET /v3/voices/{voice_id}``.

        Cached like the catalog unless ``refresh`` (use it to poll a clone).

        Raises:
            NotFoundError: unknown voice; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/voices/{quote(voice_id, safe='')}", force_refresh=refresh)
        return _parse(VoiceDetail, _data(payload, dict))

    # -- media -----------------------------------------------------------------------------

    def download(self, url: str, dest_path: str | Path) -> Path:
        """Save a media URL (presigned MP4/SRT/image, or a sandbox path) to ``dest_path``.

        A plain GET: no API key, no cache, retried on 5xx/connection errors. A relative URL is
        resolved against ``base_url``. Written to a temporary file first, then renamed.

        Raises:
            NotFoundError/PermissionDeniedError: the presigned link expired (re-fetch the video);
            NetworkError; other HeyGenError subclasses.
        """
        url = urljoin(self.base_url + "/", url)
        dest = Path(dest_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(dest.name + ".part")
        with mount_retries(requests.Session(), self.max_retries) as media:
            try:
                with media.get(url, stream=True, timeout=(CONNECT_TIMEOUT_S, self.timeout_s)) as response:
                    log.debug("media GET %s -> %s", urlsplit(url).path, response.status_code)
                    if not response.ok:
                        raise error_from_response(response, self._api_key)
                    with partial.open("wb") as fh:
                        for block in response.iter_content(chunk_size=1 << 16):
                            fh.write(block)
            except requests.RequestException as exc:
                partial.unlink(missing_ok=True)
                raise network_error(exc, url) from exc
        partial.replace(dest)
        return dest
