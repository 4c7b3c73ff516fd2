"""Account routes: ``GET /v3/users/me``, ``POST /v3/voices/speech`` and the ``/v3/webhooks/*`` endpoints."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.sandbox import media
from core.sandbox.http import (
    base_url_of,
    check_body,
    check_query,
    invalid,
    json_body,
    ok,
    owned_record,
    page,
    paginate,
    parse_json,
    sandbox_of,
)
from core.sandbox.idempotency import run_idempotent
from core.sandbox.videos import TTS_RATE_USD, allowed_locales, ensure_funds, speech_seconds
from core.sandbox.webhooks_out import EVENT_TYPES, iso

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


async def current_user(request: Request) -> JSONResponse:
    """``GET /v3/users/me``: a wallet account (USD) with the sandbox's balance."""
    sb = sandbox_of(request)
    with sb.store.lock:
        balance = round(sb.store.data["balance_usd"], 4)
    return ok({
        "username": "sandbox", "email": "sandbox@example.invalid", "first_name": "Sandbox", "last_name": "Account",
        "billing_type": "wallet",
        "wallet": {"currency": "usd", "remaining_balance": balance,
                   "auto_reload": {"enabled": False, "threshold_usd": None, "amount_usd": None}},
        "subscription": None, "usage_based": None,
    })


async def speech(request: Request) -> JSONResponse:
    """``POST /v3/voices/speech``: Starfish voices only (others raise :class:`ApiError` 400 ``param: voice_id``).

    Returns a locally served WAV that is a synthesised tone, not speech (header ``X-Sandbox-Audio``);
    ``duration`` = 150 words/min ÷ ``speed``; evenly spread ``word_timestamps``; charged per second.
    """
    sb = sandbox_of(request)
    body = await json_body(request)
    check_body("POST", "/v3/voices/speech", body)
    voice_id = body["voice_id"]
    catalog = sb.catalog_for(request.state.owner, base_url_of(request))
    voice = catalog.voice(voice_id)
    if voice is None:
        raise invalid("voice_id", f"Voice '{voice_id}' does not exist.")
    if catalog.voice_engine(voice_id) != "starfish":
        raise invalid("voice_id", f"Voice '{voice_id}' cannot be used for speech; pick a starfish voice.")
    locale = body.get("locale")
    if locale is not None and (not voice.get("support_locale") or locale not in allowed_locales(voice["language"])):
        raise invalid("locale", f"Locale '{locale}' is not available for this voice.")
    with sb.store.lock:
        ensure_funds(sb.store.data["balance_usd"])
    duration = speech_seconds(body["text"], body.get("speed"))
    request_id = sb.store.new_id("tts_", 24)
    path = sb.media_dir / "speech" / f"{request_id}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    duration = round(await run_in_threadpool(media.synth_speech, path, body["text"], duration), 3)
    with sb.store.lock:
        sb.store.data["speech"][request_id] = {"owner": request.state.owner}
        sb.store.data["balance_usd"] = round(sb.store.data["balance_usd"] - TTS_RATE_USD * math.ceil(duration), 6)
        sb.store.save()
    words = body["text"].split()
    step = duration / max(1, len(words))
    stamps = [{"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)} for i, w in enumerate(words)]
    return ok({"audio_url": f"{base_url_of(request)}/_sandbox/media/speech/{request_id}.wav", "duration": duration,
               "request_id": request_id, "word_timestamps": stamps},
              headers={"X-Sandbox-Audio": "synthesised tone, not speech"})


# ---------------------------------------------------------------------------------------------- webhooks


def _check_url(url: str | None, param: str = "url") -> None:
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return  # the sandbox also accepts plain HTTP on loopback, for local receivers
    raise invalid(param, "url must be a publicly accessible HTTPS URL.")


def _endpoint_view(ep: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    view = {k: ep[k] for k in ("endpoint_id", "url", "events", "status", "created_at")}
    view["secret"] = ep["secret"] if with_secret else None
    return view


def _own_endpoint(request: Request) -> dict[str, Any]:
    return owned_record(request, "endpoints", "endpoint_id", "Webhook endpoint")


async def create_endpoint(request: Request) -> JSONResponse:
    """``POST /v3/webhooks/endpoints``: returns the endpoint with its ``whsec_`` secret."""
    sb = sandbox_of(request)
    owner = request.state.owner

    def create(raw: bytes) -> tuple[int, dict[str, Any]]:
        body = parse_json(raw)
        check_body("POST", "/v3/webhooks/endpoints", body)
        _check_url(body["url"])
        with sb.store.lock:
            endpoint_id = sb.store.new_id("ep_", 16)
            ep = {"endpoint_id": endpoint_id, "url": body["url"], "events": body.get("events"), "status": "enabled",
                  "created_at": iso(sb.now()), "secret": "whsec_" + sb.store.new_id(n_hex=40), "owner": owner,
                  "entity_id": body.get("entity_id")}
            sb.store.data["endpoints"][endpoint_id] = ep
            sb.store.save()
        return 200, {"data": _endpoint_view(ep, with_secret=True)}

    return await run_idempotent(request, create)


async def list_endpoints(request: Request) -> JSONResponse:
    """``GET /v3/webhooks/endpoints``: limit 1–100 (10); secrets are null."""
    sb = sandbox_of(request)
    check_query(request, "/v3/webhooks/endpoints")
    with sb.store.lock:
        eps = [ep for ep in sb.store.data["endpoints"].values() if ep["owner"] == request.state.owner]
    items, more, token = paginate(request, eps, "endpoints", lambda e: e["endpoint_id"], default=10, maximum=100)
    return page([_endpoint_view(ep) for ep in items], more, token)


async def update_endpoint(request: Request) -> JSONResponse:
    """``PATCH /v3/webhooks/endpoints/{endpoint_id}``: ``url`` and/or ``events`` (replaces the list)."""
    sb = sandbox_of(request)
    body = await json_body(request, required=False)
    check_body("PATCH", "/v3/webhooks/endpoints/{endpoint_id}", body)
    if body.get("url") is not None:
        _check_url(body["url"])
    with sb.store.lock:
        ep = _own_endpoint(request)
        if body.get("url") is not None:
            ep["url"] = body["url"]
        if "events" in body:
            ep["events"] = body["events"]
        sb.store.save()
        return ok(_endpoint_view(ep))


async def delete_endpoint(request: Request) -> JSONResponse:
    """``DELETE /v3/webhooks/endpoints/{endpoint_id}`` → ``{"data": {}}``."""
    sb = sandbox_of(request)
    with sb.store.lock:
        ep = _own_endpoint(request)
        del sb.store.data["endpoints"][ep["endpoint_id"]]
        sb.store.save()
    return ok({})


async def rotate_secret(request: Request) -> JSONResponse:
    """``POST /v3/webhooks/endpoints/{endpoint_id}/rotate-secret``: the old secret stops working at once."""
    sb = sandbox_of(request)

    def rotate(raw: bytes) -> tuple[int, dict[str, Any]]:
        with sb.store.lock:
            ep = _own_endpoint(request)
            ep["secret"] = "whsec_" + sb.store.new_id(n_hex=40)
            sb.store.save()
            return 200, {"data": {"endpoint_id": ep["endpoint_id"], "secret": ep["secret"]}}

    return await run_idempotent(request, rotate)


async def event_types(request: Request) -> JSONResponse:
    """``GET /v3/webhooks/event-types``: the 30 v3 event types."""
    return page([{"event_type": t, "description": d} for t, d in EVENT_TYPES], False, None)


async def list_events(request: Request) -> JSONResponse:
    """``GET /v3/webhooks/events``: newest first; ``event_type``, ``entity_id``; limit 1–100 (10)."""
    sb = sandbox_of(request)
    check_query(request, "/v3/webhooks/events")
    kind = request.query_params.get("event_type")
    entity = request.query_params.get("entity_id")
    with sb.store.lock:
        events = [e for e in reversed(sb.store.data["events"]) if e["owner"] == request.state.owner
                  and (not kind or e["event_type"] == kind) and (not entity or e.get("entity_id") == entity)]
    items, more, token = paginate(request, events, "events", lambda e: e["event_id"], default=10, maximum=100)
    fields = ("event_id", "event_type", "event_data", "created_at")
    return page([{k: e[k] for k in fields} for e in items], more, token)


ROUTES = [
    Route("/v3/users/me", current_user, methods=["GET"]),
    Route("/v3/voices/speech", speech, methods=["POST"]),
    Route("/v3/webhooks/endpoints", create_endpoint, methods=["POST"]),
    Route("/v3/webhooks/endpoints", list_endpoints, methods=["GET"]),
    Route("/v3/webhooks/endpoints/{endpoint_id}", update_endpoint, methods=["PATCH"]),
    Route("/v3/webhooks/endpoints/{endpoint_id}", delete_endpoint, methods=["DELETE"]),
    Route("/v3/webhooks/endpoints/{endpoint_id}/rotate-secret", rotate_secret, methods=["POST"]),
    Route("/v3/webhooks/event-types", event_types, methods=["GET"]),
    Route("/v3/webhooks/events", list_events, methods=["GET"]),
]
