"""HeyGen v3 calls for a user's own media: assets, photo avatars (and their consent) and voice clones.

:class:`OwnMediaCalls` is part of :class:`core.heygen.client.HeyGenClient` (a mixin over its
``_request``/``_post_idempotent``/``_paginate`` transport, same timeouts, errors and retry rules):

| call                        | endpoint                                   |
|-----------------------------|--------------------------------------------|
| ``upload_asset``            | ``POST /v3/assets`` (multipart, ≤ 32 MB)   |
| ``get_asset``               | ``GET /v3/assets/{asset_id}``              |
| ``list_assets``             | ``GET /v3/assets?username=…``              |
| ``delete_asset``            | ``DELETE /v3/assets/{asset_id}``           |
| ``create_photo_avatar``     | ``POST /v3/avatars`` ``type: "photo"``     |
| ``get_avatar_group``        | ``GET /v3/avatars/{group_id}`` (fresh)     |
| ``list_group_looks``        | ``GET /v3/avatars/looks?group_id=…`` (fresh) |
| ``create_avatar_consent``   | ``POST /v3/avatars/{group_id}/consent``    |
| ``clone_voice``             | ``POST /v3/voices/clone``                  |
| ``get_voice``               | ``GET /v3/voices/{voice_id}``              |
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from core.heygen import uploads
from core.heygen.errors import (
    HeyGenError,
    MalformedKeyError,
    MalformedResponseError,
    PayloadTooLargeError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
)
from core.heygen.session import RETRY_AFTER_MAX_S
from core.heygen.transport import (
    CONNECT_TIMEOUT_S,
    WRITE_TIMEOUT_S,
    body_of,
    data_of,
    error_from_response,
    key_problem,
    network_error,
    parse_items,
    parse_model,
    query_params,
)
from core.heygen.types import (
    Asset,
    AvatarConsent,
    AvatarGroup,
    AvatarLook,
    CreatedAvatar,
    UploadedAsset,
    VoiceDetail,
)

log = logging.getLogger("core.heygen.client")

#: Page sizes (HeyGen maxima): assets 100, looks 50.
ASSETS_PAGE = 100
LOOKS_PAGE = 50
#: Called while an upload is sent, with (bytes sent, total bytes of the request body).
UploadProgress = Callable[[int, int], None]

_sleep = time.sleep  # replaced in tests


def _upload_delay(error: HeyGenError, attempt: int) -> float:
    """Seconds before re-sending an upload (attempt 0 = first retry): HeyGen's ``Retry-After`` when it
    asks for longer, else 1 s × 2^attempt with ±25 % jitter; at most 30 s."""
    delay = (2 ** attempt) * random.uniform(0.75, 1.25)
    if isinstance(error, RateLimitError) and error.retry_after:
        delay = max(delay, error.retry_after)
    return min(RETRY_AFTER_MAX_S, delay)


class OwnMediaCalls:
    """Own-media endpoints of :class:`~core.heygen.client.HeyGenClient` (see the module table)."""

    _api_key: str
    base_url: str
    max_retries: int
    _request: Callable[..., dict[str, Any]]
    _post_idempotent: Callable[..., dict[str, Any]]
    _paginate: Callable[..., Any]
    _observe: Callable[..., None]
    observer: Any

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
        problem = key_problem(self._api_key)
        if problem:
            raise MalformedKeyError(None, "malformed_api_key", problem)
        headers = {"X-Api-Key": self._api_key, "Accept": "application/json",
                   **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
        attempts = 1 + self.max_retries
        for attempt in range(attempts):
            try:
                response = uploads.post_multipart(self.base_url + "/v3/assets", source, filename=filename,
                                                  content_type=content_type, headers=headers, progress=progress,
                                                  timeout=(CONNECT_TIMEOUT_S, uploads.UPLOAD_TIMEOUT_S))
                self._observe("POST", "/v3/assets", response)
                log.info("HeyGen POST /v3/assets -> %s request_id=%s (%s bytes)", response.status_code,
                         response.headers.get("X-Request-Id"), f"{size:,}")
                if not response.ok:
                    raise error_from_response(response, self._api_key)
                return parse_model(UploadedAsset, data_of(body_of(response), dict))
            except requests.RequestException as exc:
                log.info("HeyGen POST /v3/assets got no answer: %s", type(exc).__name__)
                if self.observer is not None:
                    self.observer.observe_heygen("POST", "/v3/assets", None)
                error: HeyGenError = network_error(exc, self.base_url)
            except (RateLimitError, ServerError, RequestInProgressError) as exc:
                error = exc
            retryable = isinstance(error, RateLimitError) or bool(idempotency_key)
            if not retryable or attempt + 1 >= attempts:
                raise error
            delay = _upload_delay(error, attempt)
            log.info("HeyGen upload failed (%s); sending it again in %.1f s", error.code, delay)
            _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def get_asset(self, asset_id: str) -> Asset:
        """One uploaded asset: ``GET /v3/assets/{asset_id}`` (never cached).

        Raises:
            NotFoundError: unknown, deleted or foreign asset; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/assets/{quote(asset_id, safe='')}")
        return parse_model(Asset, data_of(payload, dict))

    def list_assets(self, username: str, *, limit: int | None = None) -> list[Asset]:
        """A member's assets, newest first: ``GET /v3/assets?username=…`` paged (100 per page, beta).

        ``username`` is required while HeyGen's endpoint is in beta (the ``owner`` of asset items,
        i.e. :meth:`get_current_user`'s ``username``); at most ``limit`` assets if given.

        Raises:
            InvalidRequestError (no username), other HeyGenError subclasses.
        """
        page_size = min(limit, ASSETS_PAGE) if limit else ASSETS_PAGE
        items, _, _ = self._paginate("/v3/assets", {"username": username}, page_size=page_size, max_items=limit)
        return [parse_model(Asset, item) for item in items]

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
        return parse_model(CreatedAvatar, data_of(self._post_idempotent("/v3/avatars", body, idempotency_key), dict))

    def get_avatar_group(self, group_id: str) -> AvatarGroup:
        """One avatar group with its training ``status`` and ``consent_status``: ``GET /v3/avatars/{group_id}``.

        Always asks HeyGen (bypassing and refreshing the catalog cache), as it is used to watch training.

        Raises:
            NotFoundError: unknown group; other HeyGenError subclasses.
        """
        payload = self._request("GET", f"/v3/avatars/{quote(group_id, safe='')}", force_refresh=True)
        return parse_model(AvatarGroup, data_of(payload, dict))

    def list_group_looks(self, group_id: str) -> list[AvatarLook]:
        """A group's looks with their training ``status``/``error``, fresh from HeyGen:
        ``GET /v3/avatars/looks?group_id=…`` (cache bypassed).

        Raises:
            HeyGenError subclasses.
        """
        items, _, _ = self._paginate("/v3/avatars/looks", {"group_id": group_id}, page_size=LOOKS_PAGE,
                                     refresh=True)
        return parse_items(AvatarLook, items)

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
        return parse_model(AvatarConsent, data_of(self._post_idempotent(path, body, idempotency_key), dict))

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
                                **query_params(language=language, remove_background_noise=remove_background_noise)}
        payload = self._request("POST", "/v3/voices/clone", json=body, read_timeout=WRITE_TIMEOUT_S)
        data = data_of(payload, dict)
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
        return parse_model(VoiceDetail, data_of(payload, dict))
