"""Video routes: ``POST /v3/videos``, ``GET /v3/videos``, ``GET/DELETE /v3/videos/{id}``, ``GET /v3/videos/statuses``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.sandbox.context import Sandbox
from core.sandbox.http import (
    ApiError,
    base_url_of,
    check_body,
    check_query,
    invalid,
    ok,
    owned_record,
    page,
    paginate,
    parse_json,
    sandbox_of,
)
from core.sandbox.idempotency import run_idempotent
from core.sandbox.jobs import retry_after_s, status_item, video_view
from core.sandbox.videos import ensure_funds, plan_video, price_usd

MAX_STATUS_IDS = 100


def create_job(sb: Sandbox, owner: str, raw: bytes, base_url: str) -> tuple[int, dict[str, Any]]:
    """Validate a ``POST /v3/videos`` body and store the new job; returns ``(200, {"data": …})``.

    Errors: 400 ``validation_error`` (malformed JSON), 400 ``invalid_parameter`` (schema or catalog),
    402 ``insufficient_credit`` (balance ≤ 0), 429 ``rate_limit_exceeded`` + ``Retry-After`` (too many
    pending+processing jobs for this key).
    """
    body = parse_json(raw)
    check_body("POST", "/v3/videos", body)
    scenes = plan_video(body, sb.catalog_for(owner, base_url))
    config = sb.config
    speech_s = round(sum(s.duration_s for s in scenes), 3)
    caption = body.get("caption")
    with sb.store.lock:
        ensure_funds(sb.store.data["balance_usd"])
        now = sb.now()
        active = [v for v in sb.store.data["videos"].values() if v["owner"] == owner and not v.get("final")]
        if len(active) >= config.concurrency_limit:
            raise ApiError(429, "rate_limit_exceeded",
                           f"Too many concurrent video jobs (limit {config.concurrency_limit}); retry later.",
                           headers={"Retry-After": str(retry_after_s(active, now))})
        video_id = sb.store.new_id()
        sb.store.data["videos"][video_id] = {
            "id": video_id, "owner": owner, "type": body["type"], "title": body.get("title"),
            "folder_id": None, "created_at": now,
            "queue_s": config.queue_s * config.time_scale, "render_s": speech_s * config.time_scale,
            "scenes": [s.as_dict() for s in scenes], "cost_usd": price_usd(scenes, body.get("resolution")),
            "aspect_ratio": body.get("aspect_ratio") or "16:9", "resolution": body.get("resolution") or "1080p",
            "outputs": {"subtitles": caption is not None, "captioned": bool(caption and caption.get("style"))},
            "callback_url": body.get("callback_url"), "callback_id": body.get("callback_id"),
            "base_url": base_url, "stuck": sb.knobs.take("stuck_next"), "final": None,
        }
        sb.store.data["counters"]["videos_created"] += 1
        sb.store.save()
    return 200, {"data": {"video_id": video_id, "status": "waiting",
                          "output_format": body.get("output_format") or "mp4"}}


async def create_video(request: Request) -> JSONResponse:
    """``POST /v3/videos`` (studio, avatar, image), honouring ``Idempotency-Key``."""
    sb = sandbox_of(request)
    owner, base = request.state.owner, base_url_of(request)
    return await run_idempotent(request, lambda raw: create_job(sb, owner, raw, base))


def _own_video(request: Request) -> dict[str, Any]:
    return owned_record(request, "videos", "video_id", "Video")


async def get_video(request: Request) -> JSONResponse:
    """``GET /v3/videos/{video_id}``: fresh presigned URLs on every call."""
    sb = sandbox_of(request)
    with sb.store.lock:
        video = dict(_own_video(request))
    return ok(video_view(video, sb.now(), base_url_of(request), sb.store.secret, expired=sb.knobs.expire_urls))


async def list_videos(request: Request) -> JSONResponse:
    """``GET /v3/videos``: newest first; ``title`` substring, ``folder_id``; limit 1–100 (10)."""
    sb = sandbox_of(request)
    check_query(request, "/v3/videos")
    title = (request.query_params.get("title") or "").lower()
    folder = request.query_params.get("folder_id")
    with sb.store.lock:
        videos = [dict(v) for v in reversed(sb.store.data["videos"].values()) if v["owner"] == request.state.owner
                  and (not title or title in (v.get("title") or "").lower())
                  and (not folder or v.get("folder_id") == folder)]
    items, more, token = paginate(request, videos, "videos", lambda v: v["id"], default=10, maximum=100)
    now, base = sb.now(), base_url_of(request)
    return page([video_view(v, now, base, sb.store.secret, expired=sb.knobs.expire_urls) for v in items],
                more, token)


async def delete_video(request: Request) -> JSONResponse:
    """``DELETE /v3/videos/{video_id}``: removes it, cancelling a running job (its slot frees at once)."""
    sb = sandbox_of(request)
    with sb.store.lock:
        video = _own_video(request)
        del sb.store.data["videos"][video["id"]]
        sb.store.save()
    sb.runner.remove_files(video["id"])
    return ok({"id": video["id"], "deleted": True})


async def video_statuses(request: Request) -> JSONResponse:
    """``GET /v3/videos/statuses?video_ids=a,b``: ≤100 ids; unknown or foreign ids → ``not_found``;
    no ids or more than 100 raise :class:`ApiError` 400."""
    sb = sandbox_of(request)
    check_query(request, "/v3/videos/statuses")
    ids = [i.strip() for i in (request.query_params.get("video_ids") or "").split(",") if i.strip()]
    batches = [b.strip() for b in (request.query_params.get("batch_ids") or "").split(",") if b.strip()]
    if not ids and not batches:
        raise invalid("video_ids", "Give video_ids (comma-separated) or batch_ids.")
    if len(ids) > MAX_STATUS_IDS:
        raise invalid("video_ids", f"At most {MAX_STATUS_IDS} video ids per call.")
    now = sb.now()
    with sb.store.lock:
        videos = sb.store.data["videos"]
        items = []
        for video_id in ids:
            video = videos.get(video_id)
            items.append(status_item(video if video and video["owner"] == request.state.owner else None,
                                     video_id, now))
    items += [{"batch_id": b, "video_id": None, "status": "not_found", "error": None} for b in batches]
    return page(items, False, None)


ROUTES = [
    Route("/v3/videos", create_video, methods=["POST"]),
    Route("/v3/videos", list_videos, methods=["GET"]),
    Route("/v3/videos/statuses", video_statuses, methods=["GET"]),
    Route("/v3/videos/{video_id}", get_video, methods=["GET"]),
    Route("/v3/videos/{video_id}", delete_video, methods=["DELETE"]),
]
