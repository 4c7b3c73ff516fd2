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

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import redis
import requests
from requests_cache import CachedSession

from core.config import mask_secret
from core.heygen.errors import (
    HeyGenError,
    MalformedKeyError,
    NetworkError,
    RequestInProgressError,
    ServerError,
)
from core.heygen.media_calls import OwnMediaCalls
from core.heygen.session import RETRY_AFTER_MAX_S, build_session, disable_cache, mount_retries
from core.heygen.transport import (
    CONNECT_TIMEOUT_S,
    WRITE_TIMEOUT_S,
    body_of,
    chunks,
    data_of,
    error_from_response,
    key_problem,
    network_error,
    parse_items,
    parse_model,
    parse_retry_after,
    query_params,
    scrub,
    status_code_name,
)
from core.heygen.types import (
    AvatarGroup,
    AvatarLook,
    CreatedVideo,
    CurrentUser,
    Speech,
    Video,
    VideoStatusItem,
    Voice,
    WebhookEndpoint,
)

__all__ = ["HeyGenClient", "error_from_response", "key_problem", "network_error", "parse_retry_after", "scrub",
           "status_code_name"]

log = logging.getLogger(__name__)

#: Page sizes (HeyGen maxima): voices, videos, webhooks 100; avatar groups and looks 50.
VOICES_PAGE = 100
AVATARS_PAGE = 50
VIDEOS_PAGE = 100
#: Ids per ``GET /v3/videos/statuses`` call.
STATUS_CHUNK = 100
#: Safety stop for pagination that never ends.
MAX_PAGES = 1000
#: First wait before re-sending a key that is still ``request_in_progress``, in seconds.
IN_PROGRESS_WAIT_S = 2.0

#: Called after every page with (items so far, whether more pages follow).
Progress = Callable[[int, bool], None]

_CATALOG_PATHS = {
    "voices": ("/v3/voices", VOICES_PAGE),
    "groups": ("/v3/avatars", AVATARS_PAGE),
    "looks": ("/v3/avatars/looks", AVATARS_PAGE),
}

_sleep = time.sleep  # replaced in tests


#: Errors of a cache backend (not of HeyGen): the call is repeated without the cache.
_CACHE_ERRORS = (sqlite3.DatabaseError, redis.RedisError)


def _retry_delay(exc: HeyGenError, attempt: int) -> float:
    """Seconds before re-sending an idempotent POST (attempt 0 = first retry), at most 30 s."""
    if isinstance(exc, RequestInProgressError):
        return IN_PROGRESS_WAIT_S * (attempt + 1)
    return min(RETRY_AFTER_MAX_S, (2 ** attempt) * random.uniform(0.75, 1.25))


class HeyGenClient(OwnMediaCalls):
    """HeyGen v3 over one cached, retrying HTTP session (see the module docstring); the own-media calls
    (assets, photo avatars, voice clones) come from :class:`~core.heygen.media_calls.OwnMediaCalls`.

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
        return body_of(self._send(method, path, **kwargs))

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
            payload = body_of(response)
            items.extend(data_of(payload, list))
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
        params = query_params(type=type, engine=engine, language=language, gender=gender)
        return parse_items(Voice, self._catalog("voices", params, progress, refresh))

    def list_avatar_groups(self, *, ownership: str | None = None, progress: Progress | None = None,
                           refresh: bool = False) -> list[AvatarGroup]:
        """All avatar groups (characters): ``GET /v3/avatars`` paged with ``limit=50``.

        Args:
            ownership: ``public``, ``private`` or ``None`` for both.

        Raises:
            HeyGenError subclasses.
        """
        items = self._catalog("groups", query_params(ownership=ownership), progress, refresh)
        return parse_items(AvatarGroup, items)

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
        params = query_params(group_id=group_id, avatar_type=avatar_type, ownership=ownership)
        return parse_items(AvatarLook, self._catalog("looks", params, progress, refresh))

    def get_avatar_look(self, look_id: str) -> AvatarLook:
        """One look: ``GET /v3/avatars/looks/{look_id}`` (cached like the catalog).

        Raises:
            NotFoundError: unknown look; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/avatars/looks/{quote(look_id, safe='')}")
        return parse_model(AvatarLook, data_of(payload, dict))

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
        request = requests.Request("GET", self.base_url + path, params={"limit": page_size},
                                   headers={"X-Api-Key": self._api_key}).prepare()  # the cache key is per account
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
        return parse_model(CreatedVideo, data_of(payload, dict))

    def get_video(self, video_id: str) -> Video:
        """One video with fresh presigned URLs: ``GET /v3/videos/{video_id}`` (never cached).

        Raises:
            NotFoundError: unknown or foreign id; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/videos/{quote(video_id, safe='')}")
        return parse_model(Video, data_of(payload, dict))

    def get_video_statuses(self, video_ids: list[str]) -> list[VideoStatusItem]:
        """Statuses of many videos: ``GET /v3/videos/statuses?video_ids=a,b,…`` in chunks of 100.

        Duplicate ids are asked once; an empty list makes no call. Unknown ids come back with
        ``status="not_found"``.

        Raises:
            HeyGenError subclasses.
        """
        unique = list(dict.fromkeys(video_ids))
        items: list[VideoStatusItem] = []
        for chunk in chunks(unique, STATUS_CHUNK):
            payload = self._request("GET", "/v3/videos/statuses", params={"video_ids": ",".join(chunk)})
            items.extend(parse_model(VideoStatusItem, item) for item in data_of(payload, list))
        return items

    def list_videos(self, *, limit: int | None = None) -> list[Video]:
        """The account's videos: ``GET /v3/videos`` paged (100 per page); at most ``limit`` if given.

        Raises:
            HeyGenError subclasses.
        """
        page_size = min(limit, VIDEOS_PAGE) if limit else VIDEOS_PAGE
        items, _, _ = self._paginate("/v3/videos", {}, page_size=page_size, max_items=limit)
        return [parse_model(Video, item) for item in items]

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
                **query_params(speed=speed, locale=locale, language=language, input_type=input_type)}
        payload = self._request("POST", "/v3/voices/speech", json=body, read_timeout=WRITE_TIMEOUT_S)
        return parse_model(Speech, data_of(payload, dict))

    def get_current_user(self) -> CurrentUser:
        """The account and its balance: ``GET /v3/users/me`` (cached 5 s).

        Raises:
            AuthenticationError: bad key; other HeyGenError subclasses.
        """
        return parse_model(CurrentUser, data_of(self._request("GET", "/v3/users/me"), dict))

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
        return parse_model(WebhookEndpoint, data_of(payload, dict))

    def list_webhook_endpoints(self) -> list[WebhookEndpoint]:
        """Every registered endpoint (``secret`` is ``None``): ``GET /v3/webhooks/endpoints`` paged.

        Raises:
            HeyGenError subclasses.
        """
        items, _, _ = self._paginate("/v3/webhooks/endpoints", {}, page_size=100)
        return [parse_model(WebhookEndpoint, item) for item in items]

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
        return parse_model(WebhookEndpoint, data_of(self._post_idempotent(path, None, idempotency_key), dict))

    def list_webhook_event_types(self) -> list[dict[str, Any]]:
        """Subscribable events: ``GET /v3/webhooks/event-types`` → ``[{event_type, description}]``.

        Raises:
            HeyGenError subclasses.
        """
        return [dict(item) for item in data_of(self._request("GET", "/v3/webhooks/event-types"), list)]

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
