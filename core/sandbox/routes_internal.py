"""Sandbox-only routes under ``/_sandbox/*`` (no API key, never fault-injected).

- ``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET``/``POST /_sandbox/faults``
  (body ``{"spec": "...", "fail_next": 1, "failure_code": "...", "failure_message": "...", "stuck_next": 1,
  "expire_urls": true, "webhook_bad_signature": false, "webhook_duplicate": false}``; keys optional).
- ``GET /_sandbox/files/{video_id}/{name}?Expires=…&Signature=…``: video outputs; 403 when expired or
  the signature is wrong, 404 when missing.
- ``GET /_sandbox/media/voice/{id}.wav``, ``/_sandbox/media/look/{id}.jpg`` (generated on first request),
  ``/_sandbox/media/speech/{request_id}.wav`` (TTS results).
- ``GET /_sandbox/videos/{video_id}``: a small HTML "video page".
"""

from __future__ import annotations

import hmac
import html

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from core.sandbox.faults import FaultPlan
from core.sandbox.http import ApiError, error_body, json_body, not_found, sandbox_of
from core.sandbox.jobs import OUTPUT_FILES, file_url, signature, status_of

_MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".srt": "application/x-subrip", ".wav": "audio/wav"}


async def stats(request: Request) -> JSONResponse:
    """Counters: requests per ``METHOD /template``, videos, replays, webhook deliveries, balance."""
    return JSONResponse(sandbox_of(request).stats())


async def reset(request: Request) -> JSONResponse:
    """Forget all state (videos, webhooks, counters, knobs); restore balance and configured faults."""
    sb = sandbox_of(request)
    sb.reset()
    return JSONResponse({"ok": True})


async def faults(request: Request) -> JSONResponse:
    """``GET|POST /_sandbox/faults``: show or change the fault spec and job-level knobs; a bad spec raises
    :class:`ApiError` 400 ``param: spec``."""
    sb = sandbox_of(request)
    if request.method == "POST":
        body = await json_body(request, required=False)
        if "spec" in body:
            try:
                sb.faults = FaultPlan(body["spec"], sb.config.seed)
            except ValueError as exc:
                raise ApiError(400, "invalid_parameter", str(exc), "spec") from None
        for name, value in body.items():
            if name != "spec" and hasattr(sb.knobs, name) and name != "lock":
                setattr(sb.knobs, name, type(getattr(sb.knobs, name))(value))
    return JSONResponse({"spec": sb.faults.spec, **sb.knobs.as_dict()})


async def video_file(request: Request) -> Response:
    """A presigned output file: 403 after ``Expires`` (Unix seconds) or with a wrong signature; an unknown
    file raises :class:`ApiError` 404."""
    sb = sandbox_of(request)
    video_id, name = request.path_params["video_id"], request.path_params["name"]
    try:
        expires = int(request.query_params.get("Expires", ""))
    except ValueError:
        expires = -1
    expected = signature(sb.store.secret, video_id, name, expires)
    if not hmac.compare_digest(expected, request.query_params.get("Signature", "")):
        return JSONResponse(error_body("forbidden", "Signature does not match."), status_code=403)
    if sb.now() > expires:
        return JSONResponse(error_body("forbidden", "Request has expired."), status_code=403)
    if name not in OUTPUT_FILES:
        raise not_found("File")
    path = sb.files_dir / video_id / ("video.mp4" if name == "captioned.mp4" else name)
    if not path.is_file():
        raise not_found("File")
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix])


async def voice_preview(request: Request) -> Response:
    """Local preview clip of a voice (WAV tone), generated on first request."""
    return await _preview(request, "voice", request.path_params["voice_id"])


async def look_preview(request: Request) -> Response:
    """Local preview image of a look (JPEG placeholder), generated on first request."""
    return await _preview(request, "look", request.path_params["look_id"])


async def _preview(request: Request, kind: str, item_id: str) -> Response:
    sb = sandbox_of(request)
    path = await run_in_threadpool(sb.preview_file, kind, item_id)
    if path is None:
        raise not_found("Preview")
    return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix], headers={"Cache-Control": "max-age=86400"})


async def speech_audio(request: Request) -> Response:
    """The WAV of a ``POST /v3/voices/speech`` result; unknown ids raise :class:`ApiError` 404."""
    sb = sandbox_of(request)
    request_id = request.path_params["request_id"]
    path = sb.media_dir / "speech" / f"{request_id}.wav"
    if request_id not in sb.store.data["speech"] or not path.is_file():
        raise not_found("Audio")
    return FileResponse(path, media_type="audio/wav")


async def video_page(request: Request) -> Response:
    """A minimal HTML page playing a completed video (the ``video_page_url``); unknown ids raise
    :class:`ApiError` 404."""
    sb = sandbox_of(request)
    video = sb.store.data["videos"].get(request.path_params["video_id"])
    if video is None:
        raise not_found("Video")
    now = sb.now()
    title = html.escape(video.get("title") or video["id"])
    if status_of(video, now) != "completed":
        return HTMLResponse(f"<h1>{title}</h1><p>Status: {html.escape(status_of(video, now))}</p>")
    src = html.escape(file_url(str(request.base_url).rstrip("/"), sb.store.secret, video["id"], "video.mp4", now))
    return HTMLResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>"
                        f"<p>Sandbox render — not a HeyGen video.</p><video controls src=\"{src}\"></video>")


ROUTES = [
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST"]),
    Route("/_sandbox/files/{video_id}/{name}", video_file, methods=["GET"]),
    Route("/_sandbox/media/voice/{voice_id}.wav", voice_preview, methods=["GET"]),
    Route("/_sandbox/media/look/{look_id}.jpg", look_preview, methods=["GET"]),
    Route("/_sandbox/media/speech/{request_id}.wav", speech_audio, methods=["GET"]),
    Route("/_sandbox/videos/{video_id}", video_page, methods=["GET"]),
]
