"""Own-media routes: ``/v3/assets`` (upload, get, list, delete), ``POST /v3/avatars`` (photo avatars),
``POST /v3/avatars/{group_id}/consent``, ``POST /v3/voices/clone``; and the sandbox-only files behind
them: ``GET /_sandbox/assets/{asset_id}.{ext}``, ``GET /_sandbox/media/clone/{voice_id}.wav`` and the
consent page ``GET|POST /_sandbox/consent/{group_id}``.

Uploads follow HeyGen: multipart field ``file``, at most 32 MB (413 ``payload_too_large``, after the
body has been read so the client sees the answer), type detected from the bytes (png, jpeg, mp4,
webm, mp3, wav, pdf, srt; anything else or an empty file → 400 ``invalid_parameter``, ``param: file``).
``Idempotency-Key`` is honoured on ``POST /v3/assets``, ``/v3/avatars`` and ``…/consent``.
"""

from __future__ import annotations

import html
from typing import Any

from PIL import Image, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from core.sandbox import media
from core.sandbox import own_media as om
from core.sandbox.http import (
    ApiError,
    base_url_of,
    check_body,
    check_query,
    invalid,
    json_body,
    not_found,
    ok,
    page,
    paginate,
    parse_json,
    sandbox_of,
)
from core.sandbox.idempotency import run_idempotent

#: Room for the multipart envelope around a file of the largest size, in bytes.
_ENVELOPE_BYTES = 64 * 1024
_LANGUAGES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
              "nl": "Dutch", "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "hi": "Hindi", "ar": "Arabic"}


async def _read_capped(request: Request) -> bytes:
    """The whole request body; more than 32 MB plus the envelope is drained and answered with 413."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= om.ASSET_MAX_BYTES + _ENVELOPE_BYTES:
            chunks.append(chunk)
    if size > om.ASSET_MAX_BYTES + _ENVELOPE_BYTES:
        raise _too_large()
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"The file exceeds the {om.ASSET_MAX_BYTES // (1024 * 1024)} MB "
                                              "upload limit.", "file")


async def _file_part(request: Request, raw: bytes) -> tuple[str, bytes]:
    """(file name, bytes) of the multipart field ``file``; a missing field or bad body → 400 ``param: file``."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise invalid("file", "Send the file as multipart/form-data in the field 'file'.")

    async def stream():
        yield raw

    try:
        form = await MultiPartParser(Headers(raw=request.headers.raw), stream(), max_files=1, max_fields=5).parse()
    except MultiPartException as exc:
        raise invalid("file", f"The multipart body could not be read: {exc.message}") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise invalid("file", "file is required.")
    data = await upload.read()
    await form.close()
    return om.display_name(upload.filename), data


def _measure(path, kind: str) -> dict[str, Any]:
    """Width/height of an image, seconds of audio or video (``None`` when the file cannot be decoded)."""
    if kind == "image":
        try:
            with Image.open(path) as image:
                image.load()
                return {"width": image.width, "height": image.height, "decodable": True}
        except (UnidentifiedImageError, OSError, ValueError):
            return {"width": None, "height": None, "decodable": False}
    if kind in ("audio", "video"):
        try:
            return {"duration_s": round(media.probe_duration(path), 3), "decodable": True}
        except (media.MediaError, OSError):
            return {"duration_s": None, "decodable": False}
    return {"decodable": True}


async def upload_asset(request: Request) -> JSONResponse:
    """``POST /v3/assets``: store the file of field ``file``; returns ``{asset_id, url, mime_type, size_bytes}``."""
    sb = sandbox_of(request)
    owner, base = request.state.owner, base_url_of(request)
    raw = await _read_capped(request)
    name, data = await _file_part(request, raw)

    def create(_: bytes) -> tuple[int, dict[str, Any]]:
        if len(data) > om.ASSET_MAX_BYTES:
            raise _too_large()
        if not data:
            raise invalid("file", "The file is empty.")
        mime = om.detect_mime(data[:4096])
        if mime is None:
            raise invalid("file", "Unsupported file type; upload png, jpeg, mp4, webm, mp3, wav, pdf or srt.")
        kind, ext = om.MIME_KINDS[mime]
        asset_id = sb.store.new_id()
        record = {"id": asset_id, "owner": owner, "name": name, "mime_type": mime, "kind": kind, "ext": ext,
                  "size_bytes": len(data), "uploaded_at": sb.now(), "deleted": False}
        path = om.asset_path(sb.root, record)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        record.update(file=str(path), **_measure(path, kind))
        with sb.store.lock:
            om.assets_of(sb.store.data)[asset_id] = record
            sb.store.save()
        return 200, {"data": {"asset_id": asset_id, "url": om.asset_url(record, base), "mime_type": mime,
                              "size_bytes": len(data)}}

    return await run_idempotent(request, create, raw=raw, in_thread=True)


def _own_asset(request: Request) -> dict[str, Any]:
    sb = sandbox_of(request)
    asset = om.live_asset(sb.store.data, request.state.owner, request.path_params["asset_id"])
    if asset is None:
        raise not_found("Asset")
    return asset


async def get_asset(request: Request) -> JSONResponse:
    """``GET /v3/assets/{asset_id}``; unknown, foreign or deleted → 404 ``not_found``."""
    sb = sandbox_of(request)
    with sb.store.lock:
        asset = dict(_own_asset(request))
    return ok(om.asset_view(asset, base_url_of(request)))


async def list_assets(request: Request) -> JSONResponse:
    """``GET /v3/assets?username=sandbox``: newest first; limit 1–100 (20); ``username`` required."""
    sb = sandbox_of(request)
    check_query(request, "/v3/assets")
    with sb.store.lock:
        assets = [dict(a) for a in reversed(om.assets_of(sb.store.data).values())
                  if a["owner"] == request.state.owner and not a.get("deleted")]
    if request.query_params.get("username") != "sandbox":
        assets = []
    items, more, token = paginate(request, assets, "assets", lambda a: a["id"], default=20, maximum=100)
    base = base_url_of(request)
    return page([om.asset_view(a, base) for a in items], more, token)


async def delete_asset(request: Request) -> JSONResponse:
    """``DELETE /v3/assets/{asset_id}`` → ``{"data": {"id"}}``; the file is removed."""
    sb = sandbox_of(request)
    with sb.store.lock:
        asset = _own_asset(request)
        asset["deleted"] = True
        sb.store.save()
    om.asset_path(sb.root, asset).unlink(missing_ok=True)
    return ok({"id": asset["id"]})


# ---------------------------------------------------------------------------------------------- photo avatars


def _image_asset(sb: Any, owner: str, source: dict[str, Any], param: str) -> dict[str, Any]:
    if source.get("type") != "asset_id":
        raise invalid(f"{param}.type", "The sandbox trains photo avatars from uploaded assets (type 'asset_id').")
    asset = om.live_asset(sb.store.data, owner, source.get("asset_id"))
    if asset is None:
        raise ApiError(404, "not_found", f"Asset '{source.get('asset_id')}' not found.", f"{param}.asset_id")
    if asset["kind"] != "image" or not asset.get("decodable"):
        raise invalid(f"{param}.asset_id", "The asset is not a readable png or jpeg image.")
    return asset


def _photo_failure(sb: Any, asset: dict[str, Any]) -> dict[str, str] | None:
    if sb.knobs.take("avatar_fail_next"):
        return {"code": sb.knobs.avatar_failure_code, "message": sb.knobs.avatar_failure_message}
    if min(asset["width"], asset["height"]) < om.MIN_PHOTO_PX:
        return {"code": "image_too_small",
                "message": f"The photo is too small to train; use at least {om.MIN_PHOTO_PX} px on each side."}
    return None


async def create_avatar(request: Request) -> JSONResponse:
    """``POST /v3/avatars`` with ``type: "photo"`` (``digital_twin`` and ``prompt`` → 400 ``param: type``)."""
    sb = sandbox_of(request)
    owner, base = request.state.owner, base_url_of(request)

    def create(raw: bytes) -> tuple[int, dict[str, Any]]:
        body = parse_json(raw)
        check_body("POST", "/v3/avatars", body)
        if body["type"] != "photo":
            raise invalid("type", f"Avatar type '{body['type']}' is not available in the sandbox; use 'photo'.")
        if not body["name"].strip():
            raise invalid("name", "name must not be empty.")
        with sb.store.lock:
            asset = _image_asset(sb, owner, body["file"], "file")
            group_id = sb.store.new_id()
            record = {"id": group_id, "look_id": sb.store.new_id(), "owner": owner, "name": body["name"].strip(),
                      "asset_id": asset["id"], "ext": asset["ext"], "width": asset["width"],
                      "height": asset["height"], "created_at": sb.now(),
                      "train_s": om.PHOTO_TRAIN_S * sb.config.time_scale,
                      "consent_required": sb.config.photo_avatar_consent, "consented": False,
                      "failure": _photo_failure(sb, asset)}
            om.avatars_of(sb.store.data)[group_id] = record
            sb.store.save()
            now = sb.now()
        return 200, {"data": {"avatar_group": om.own_group(record, now, base),
                              "avatar_item": om.own_look(record, now, base)}}

    return await run_idempotent(request, create)


def _own_group_record(request: Request) -> dict[str, Any]:
    sb = sandbox_of(request)
    record = om.avatars_of(sb.store.data).get(request.path_params["group_id"])
    if record is None or record["owner"] != request.state.owner:
        raise not_found("Avatar group", "avatar_not_found")
    return record


async def create_consent(request: Request) -> JSONResponse:
    """``POST /v3/avatars/{group_id}/consent``: the consent page URL (approve it to finish the group)."""
    sb = sandbox_of(request)
    base = base_url_of(request)

    def consent(raw: bytes) -> tuple[int, dict[str, Any]]:
        body = parse_json(raw, required=False)
        check_body("POST", "/v3/avatars/{group_id}/consent", body)
        if body.get("consent_video") is not None:
            raise invalid("consent_video", "Consent videos are an Enterprise option not available in the sandbox.")
        with sb.store.lock:
            record = _own_group_record(request)
            record["consent_required"] = True
            sb.store.save()
            group = om.own_group(record, sb.now(), base)
        return 200, {"data": {"avatar_group": group, "url": f"{base}/_sandbox/consent/{record['id']}"}}

    return await run_idempotent(request, consent)


async def consent_page(request: Request) -> Response:
    """``GET /_sandbox/consent/{group_id}`` shows the consent page; ``POST`` records the approval."""
    sb = sandbox_of(request)
    with sb.store.lock:
        record = om.avatars_of(sb.store.data).get(request.path_params["group_id"])
        if record is None:
            raise not_found("Avatar group", "avatar_not_found")
        if request.method == "POST":
            record["consented"] = True
            sb.store.save()
        name, done = html.escape(record["name"]), record.get("consented")
    if done:
        return HTMLResponse(f"<!doctype html><title>Consent</title><h1>{name}</h1><p>Consent recorded.</p>")
    return HTMLResponse(f"<!doctype html><title>Consent</title><h1>{name}</h1><p>Sandbox consent page: the "
                        "person in the photo agrees to this avatar.</p><form method=post>"
                        "<button type=submit>I consent</button></form>")


# ---------------------------------------------------------------------------------------------- voice clones


def _clone_failure(sb: Any, asset: dict[str, Any]) -> dict[str, str] | None:
    if sb.knobs.take("clone_fail_next"):
        return {"code": "clone_failed", "message": sb.knobs.clone_failure_message}
    if (asset.get("duration_s") or 0) < om.MIN_CLONE_AUDIO_S:
        return {"code": "audio_too_short",
                "message": f"The recording is too short to clone; give at least {om.MIN_CLONE_AUDIO_S:.0f} seconds."}
    return None


async def clone_voice(request: Request) -> JSONResponse:
    """``POST /v3/voices/clone``: ``{voice_name, audio: {type: asset_id, …}, language?}`` → ``voice_clone_id``."""
    sb = sandbox_of(request)
    owner = request.state.owner
    body = await json_body(request)
    check_body("POST", "/v3/voices/clone", body)
    if not body["voice_name"].strip():
        raise invalid("voice_name", "voice_name must not be empty.")
    source = body["audio"]
    if source.get("type") != "asset_id":
        raise invalid("audio.type", "The sandbox clones voices from uploaded assets (type 'asset_id').")
    language = body.get("language")
    with sb.store.lock:
        asset = om.live_asset(sb.store.data, owner, source.get("asset_id"))
        if asset is None:
            raise ApiError(404, "not_found", f"Asset '{source.get('asset_id')}' not found.", "audio.asset_id")
        if asset["kind"] != "audio" or not asset.get("decodable"):
            raise invalid("audio.asset_id", "The asset is not a readable mp3 or wav recording.")
        voice_id = sb.store.new_id()
        om.clones_of(sb.store.data)[voice_id] = {
            "id": voice_id, "owner": owner, "name": body["voice_name"].strip(), "asset_id": asset["id"],
            "language": _LANGUAGES.get((language or "en").split("-")[0].lower(), "Multilingual"),
            "created_at": sb.now(), "process_s": om.CLONE_S * sb.config.time_scale,
            "failure": _clone_failure(sb, asset)}
        sb.store.save()
    return ok({"voice_clone_id": voice_id})


async def clone_preview(request: Request) -> Response:
    """The generated preview line of a complete clone (WAV)."""
    sb = sandbox_of(request)
    with sb.store.lock:
        record = om.clones_of(sb.store.data).get(request.path_params["voice_id"])
        ready = record is not None and om.clone_status(record, sb.now()) == "complete"
    if not ready:
        raise not_found("Preview")
    path = sb.media_dir / "clone" / f"{record['id']}.wav"
    if not path.exists():
        await run_in_threadpool(media.preview_audio, path, record["name"])
    return FileResponse(path, media_type="audio/wav")


async def asset_file(request: Request) -> Response:
    """The public file of a live asset; unknown or deleted → 404."""
    sb = sandbox_of(request)
    asset_id, _, ext = request.path_params["name"].partition(".")
    with sb.store.lock:
        asset = om.assets_of(sb.store.data).get(asset_id)
    if asset is None or asset.get("deleted") or asset["ext"] != ext:
        raise not_found("Asset")
    return FileResponse(om.asset_path(sb.root, asset), media_type=asset["mime_type"])


ROUTES = [
    Route("/v3/assets", upload_asset, methods=["POST"]),
    Route("/v3/assets", list_assets, methods=["GET"]),
    Route("/v3/assets/{asset_id}", get_asset, methods=["GET"]),
    Route("/v3/assets/{asset_id}", delete_asset, methods=["DELETE"]),
    Route("/v3/avatars", create_avatar, methods=["POST"]),
    Route("/v3/avatars/{group_id}/consent", create_consent, methods=["POST"]),
    Route("/v3/voices/clone", clone_voice, methods=["POST"]),
    Route("/_sandbox/assets/{name}", asset_file, methods=["GET"]),
    Route("/_sandbox/media/clone/{voice_id}.wav", clone_preview, methods=["GET"]),
    Route("/_sandbox/consent/{group_id}", consent_page, methods=["GET", "POST"]),
]
