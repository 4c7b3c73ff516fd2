"""Sandbox-only routes under ``/_sandbox/*`` (no API key, never fault-injected).

- ``GET /_sandbox/stats``, ``POST /_sandbox/reset``, ``GET``/``POST /_sandbox/faults``
  (body ``{"spec": "...", "fail_next": 1, "failure_code": "...", "failure_message": "...", "stuck_next": 1,
  "expire_urls": true, "webhook_bad_signature": false, "webhook_duplicate": false, "avatar_fail_next": 1,
  "avatar_failure_code": "...", "avatar_failure_message": "...", "clone_fail_next": 1,
  "clone_failure_message": "..."}``; keys optional).
- ``GET /_sandbox/files/{video_id}/{name}?Expires=…&Signature=…``: video outputs; 403 when expired or
  the signature is wrong, 404 when missing; ``Range`` requests answer 206. The knobs
  ``truncate_files_next``, ``stall_files_next`` and ``files_answer_next`` break the next downloads.
- ``GET /_sandbox/media/voice/{id}.wav``, ``/_sandbox/media/look/{id}.jpg`` and ``.mp4`` (generated on first
  request),
  ``/_sandbox/media/speech/{request_id}.wav`` (TTS results).
- ``GET /_sandbox/videos/{video_id}``: a small HTML "video page".
"""

from __future__ import annotations

import asyncio
import hmac
import html
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.sandbox.faults import FaultPlan
from core.sandbox.http import ApiError, error_body, invalid, json_body, not_found, sandbox_of
from core.sandbox.jobs import OUTPUT_FILES, file_url, signature, status_of

_MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".srt": "application/x-subrip", ".wav": "audio/wav"}


async def stats(request: Request) -> JSONResponse:
    """Counters: requests per ``METHOD /template``, videos, replays, webhook deliveries, balance."""
    return JSONResponse(sandbox_of(request).stats())


async def reset(request: Request) -> JSONResponse:
    """Forget all state (videos, webhooks, counters, knobs); restore balance and configured faults.

    The body must be empty or ``{}``; anything else raises :class:`ApiError` 400 (nothing is reset).
    """
    sb = sandbox_of(request)
    if await json_body(request, required=False):
        raise ApiError(400, "validation_error", "POST /_sandbox/reset takes no parameters.")
    sb.reset()
    return JSONResponse({"ok": True})


async def faults(request: Request) -> JSONResponse:
    """``GET|POST /_sandbox/faults``: show or change the fault spec and job-level knobs.

    Every key is checked before anything changes: an unknown key, a value of the wrong JSON type
    (``"false"`` is not a boolean, ``1.5`` not a count) or a bad spec raises :class:`ApiError` 400 naming it.
    """
    sb = sandbox_of(request)
    if request.method == "POST":
        body = await json_body(request, required=False)
        plan = _fault_plan(body["spec"], sb.config.seed) if "spec" in body else None
        changes = {name: _knob_value(name, value) for name, value in body.items() if name != "spec"}
        if plan is not None:
            sb.faults = plan
        with sb.knobs.lock:
            for name, value in changes.items():
                setattr(sb.knobs, name, value)
    return JSONResponse({"spec": sb.faults.spec, **sb.knobs.as_dict()})


_KNOB_TYPES: dict[str, type] = {"fail_next": int, "stuck_next": int, "failure_code": str, "failure_message": str,
                                "expire_urls": bool, "webhook_bad_signature": bool, "webhook_duplicate": bool,
                                "truncate_files_next": int, "stall_files_next": int, "stall_s": float,
                                "files_answer_next": int, "files_answer_status": int,
                                "avatar_fail_next": int, "avatar_failure_code": str, "avatar_failure_message": str,
                                "clone_fail_next": int, "clone_failure_message": str}
_MAX_STALL_S = 600.0
_MAX_KNOB_TEXT = 500
_MAX_KNOB_COUNT = 1_000_000


def _fault_plan(spec: object, seed: int | None) -> FaultPlan:
    if spec is not None and not isinstance(spec, str):
        raise invalid("spec", "spec must be a string such as \"429=0.1,500=2x\" or null.")
    try:
        return FaultPlan(spec, seed)
    except ValueError as exc:
        raise invalid("spec", str(exc)) from None


def _knob_value(name: str, value: object) -> object:
    """``value`` checked against the knob's type; raises :class:`ApiError` 400 naming ``name``."""
    kind = _KNOB_TYPES.get(name)
    if kind is None:
        raise invalid(name, f"{name} is not a fault setting; use one of: spec, {', '.join(_KNOB_TYPES)}.")
    if kind is bool and not isinstance(value, bool):
        raise invalid(name, f"{name} must be true or false.")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_KNOB_COUNT):
        raise invalid(name, f"{name} must be a whole number from 0 to {_MAX_KNOB_COUNT:,}.")
    if kind is str and (not isinstance(value, str) or not 0 < len(value) <= _MAX_KNOB_TEXT):
        raise invalid(name, f"{name} must be text of 1 to {_MAX_KNOB_TEXT} characters.")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= _MAX_STALL_S:
            raise invalid(name, f"{name} must be a number of seconds from 0 to {_MAX_STALL_S:g}.")
        return float(value)
    if name == "files_answer_status" and not 400 <= value <= 599:
        raise invalid(name, f"{name} must be an HTTP error status from 400 to 599.")
    return value


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
    broken = _broken_download(sb, path)
    return broken or FileResponse(path, media_type=_MEDIA_TYPES[path.suffix])


def _broken_download(sb, path: Path) -> Response | None:
    """A faulty answer for the next download when a file knob asks for one (see :class:`Knobs`)."""
    if sb.knobs.take("files_answer_next"):
        status = int(sb.knobs.files_answer_status)
        return JSONResponse(error_body("file_fault", f"Injected {status}."), status_code=status)
    truncate = sb.knobs.take("truncate_files_next")
    stall = not truncate and sb.knobs.take("stall_files_next")
    if not (truncate or stall):
        return None
    data = path.read_bytes()
    half = len(data) // 2

    async def body():
        yield data[:half]
        if truncate:
            return  # uvicorn closes the connection: fewer bytes than Content-Length
        await asyncio.sleep(float(sb.knobs.stall_s))
        yield data[half:]

    return StreamingResponse(body(), media_type=_MEDIA_TYPES[path.suffix],
                             headers={"Content-Length": str(len(data))})


async def voice_preview(request: Request) -> Response:
    """Local preview clip of a voice (WAV tone), generated on first request."""
    return await _preview(request, "voice", request.path_params["voice_id"])


async def look_preview(request: Request) -> Response:
    """Local preview image of a look (JPEG placeholder), generated on first request."""
    return await _preview(request, "look", request.path_params["look_id"])


async def look_preview_video(request: Request) -> Response:
    """Local preview video of a look (MP4 of its placeholder image), generated on first request."""
    return await _preview(request, "look_video", request.path_params["look_id"])


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
    Route("/_sandbox/media/look/{look_id}.mp4", look_preview_video, methods=["GET"]),
    Route("/_sandbox/media/speech/{request_id}.wav", speech_audio, methods=["GET"]),
    Route("/_sandbox/videos/{video_id}", video_page, methods=["GET"]),
]
