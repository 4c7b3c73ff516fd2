"""Catalog routes: ``GET /v3/voices`` (+ detail), ``GET /v3/avatars`` (+ detail), ``GET /v3/avatars/looks`` (+ detail)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.sandbox.http import base_url_of, check_query, not_found, ok, page, paginate, query_enum, sandbox_of


def _ownership(item: dict[str, Any]) -> str:
    return "public" if item.get("status") is None else "private"


def _same(a: Any, b: str) -> bool:
    return str(a or "").strip().lower() == b.strip().lower()


async def list_voices(request: Request) -> JSONResponse:
    """``GET /v3/voices``: ``type`` (default public), ``engine``, ``language``, ``gender``; limit 1–100 (20)."""
    sb = sandbox_of(request)
    check_query(request, "/v3/voices")
    catalog = sb.catalog_for(request.state.owner, base_url_of(request))
    kind = query_enum(request, "type", ("public", "private")) or "public"
    engine = request.query_params.get("engine")
    language = request.query_params.get("language")
    gender = request.query_params.get("gender")
    voices = [v for v in catalog.voices if v["type"] == kind
              and (not engine or catalog.voice_engine(v["voice_id"]) == engine)
              and (not language or _same(v["language"], language))
              and (not gender or _same(v["gender"], gender))]
    items, more, token = paginate(request, voices, f"voices:{kind}:{engine}:{language}:{gender}",
                                  lambda v: v["voice_id"], default=20, maximum=100)
    base = base_url_of(request)
    return page([sb.voice_view(v, base) for v in items], more, token)


async def get_voice(request: Request) -> JSONResponse:
    """``GET /v3/voices/{voice_id}``; an unknown id raises :class:`ApiError` 404 ``voice_not_found``."""
    sb = sandbox_of(request)
    voice_id = request.path_params["voice_id"]
    detail = sb.catalog_for(request.state.owner, base_url_of(request)).voice_detail(voice_id)
    if detail is None:
        raise not_found("Voice", "voice_not_found")
    return ok(sb.voice_view(detail, base_url_of(request)))


async def list_groups(request: Request) -> JSONResponse:
    """``GET /v3/avatars``: ``ownership`` public|private (omit = all); limit 1–50 (20)."""
    sb = sandbox_of(request)
    check_query(request, "/v3/avatars")
    ownership = query_enum(request, "ownership", ("public", "private"))
    groups = [g for g in sb.catalog_for(request.state.owner, base_url_of(request)).groups if not ownership or _ownership(g) == ownership]
    items, more, token = paginate(request, groups, f"groups:{ownership}", lambda g: g["id"], default=20, maximum=50)
    base = base_url_of(request)
    return page([sb.group_view(g, base) for g in items], more, token)


async def get_group(request: Request) -> JSONResponse:
    """``GET /v3/avatars/{group_id}``; an unknown id raises :class:`ApiError` 404 ``avatar_not_found``."""
    sb = sandbox_of(request)
    group = sb.catalog_for(request.state.owner, base_url_of(request)).group(request.path_params["group_id"])
    if group is None:
        raise not_found("Avatar group", "avatar_not_found")
    return ok(sb.group_view(group, base_url_of(request)))


async def list_looks(request: Request) -> JSONResponse:
    """``GET /v3/avatars/looks``: ``group_id``, ``avatar_type``, ``ownership``; limit 1–50 (20)."""
    sb = sandbox_of(request)
    check_query(request, "/v3/avatars/looks")
    group_id = request.query_params.get("group_id")
    avatar_type = query_enum(request, "avatar_type", ("studio_avatar", "digital_twin", "photo_avatar"))
    ownership = query_enum(request, "ownership", ("public", "private"))
    catalog = sb.catalog_for(request.state.owner, base_url_of(request))
    looks = catalog.looks_of_group(group_id) if group_id else catalog.looks
    looks = [lk for lk in looks if (not avatar_type or lk["avatar_type"] == avatar_type)
             and (not ownership or _ownership(lk) == ownership)]
    items, more, token = paginate(request, looks, f"looks:{group_id}:{avatar_type}:{ownership}",
                                  lambda lk: lk["id"], default=20, maximum=50)
    base = base_url_of(request)
    return page([sb.look_view(lk, base) for lk in items], more, token)


async def get_look(request: Request) -> JSONResponse:
    """``GET /v3/avatars/looks/{look_id}``; an unknown id raises :class:`ApiError` 404 ``avatar_not_found``."""
    sb = sandbox_of(request)
    look = sb.catalog_for(request.state.owner, base_url_of(request)).look(request.path_params["look_id"])
    if look is None:
        raise not_found("Avatar look", "avatar_not_found")
    return ok(sb.look_view(look, base_url_of(request)))


ROUTES = [
    Route("/v3/voices", list_voices, methods=["GET"]),
    Route("/v3/voices/{voice_id}", get_voice, methods=["GET"]),
    Route("/v3/avatars", list_groups, methods=["GET"]),
    Route("/v3/avatars/looks", list_looks, methods=["GET"]),
    Route("/v3/avatars/looks/{look_id}", get_look, methods=["GET"]),
    Route("/v3/avatars/{group_id}", get_group, methods=["GET"]),
]
