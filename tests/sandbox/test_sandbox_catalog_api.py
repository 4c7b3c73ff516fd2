"""Sandbox auth, envelopes, catalog endpoints, pagination, filters and preview media over loopback HTTP."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.sandbox.sandbox_support import LOOK, VOICE_EN, Api


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox.url)


def test_missing_and_unknown_keys_are_401_with_envelope(sandbox) -> None:
    for headers in ({}, {"X-Api-Key": "nope"}, {"Authorization": "Bearer nope"}):
        r = requests.get(sandbox.url + "/v3/voices", headers=headers, timeout=5)
        assert r.status_code == 401
        error = r.json()["error"]
        assert error["code"] == "unauthorized" and error["message"] and error["doc_url"].startswith("https://")
        assert r.headers["X-Request-Id"]


def test_forbidden_key_is_403_and_header_case_and_bearer_work(sandbox_factory) -> None:
    server = sandbox_factory(api_keys=("good",), forbidden_keys=("blocked",))
    r = requests.get(server.url + "/v3/users/me", headers={"X-Api-Key": "blocked"}, timeout=5)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert requests.get(server.url + "/v3/users/me", headers={"x-api-key": "good"}, timeout=5).status_code == 200
    assert requests.get(server.url + "/v3/users/me", headers={"Authorization": "Bearer good"},
                        timeout=5).status_code == 200


@pytest.mark.parametrize("path", ["/v2/voices", "/v1/video_status.get", "/v3/nothing-here", "/"])
def test_legacy_and_unknown_paths_are_404(api, path) -> None:
    r = api.get(path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert r.headers["X-Request-Id"]


def _walk(api: Api, path: str, **params) -> tuple[list[dict], list[str]]:
    items, tokens, token = [], [], None
    while True:
        query = dict(params, **({"token": token} if token else {}))
        body = api.get(path, params=query).json()
        items += body["data"]
        token = body["next_token"]
        assert body["has_more"] == (token is not None)
        if not token:
            return items, tokens
        tokens.append(token)


def test_walking_all_voices_with_limit_100_returns_the_whole_catalog(api) -> None:
    public, tokens = _walk(api, "/v3/voices", limit=100)
    private, _ = _walk(api, "/v3/voices", limit=100, type="private")
    ids = [v["voice_id"] for v in public + private]
    assert len(ids) == len(set(ids)) == 2326
    assert len(public) == 2324 and {v["type"] for v in private} == {"private"}
    assert len(tokens) == 23
    for token in tokens:  # opaque base64url, no raw ids visible
        assert "=" not in token and all(c.isalnum() or c in "-_" for c in token)
        assert token not in ids


def test_default_voice_page_is_20_and_limits_are_enforced(api) -> None:
    assert len(api.get("/v3/voices").json()["data"]) == 20
    for limit in (0, 101, "x"):
        r = api.get("/v3/voices", params={"limit": limit})
        assert r.status_code == 400 and r.json()["error"]["param"] == "limit"
    r = api.get("/v3/avatars/looks", params={"limit": 51})
    assert r.status_code == 400 and r.json()["error"]["param"] == "limit"
    assert len(api.get("/v3/avatars/looks", params={"limit": 50}).json()["data"]) == 50


@pytest.mark.parametrize("token", ["garbage!!", base64.urlsafe_b64encode(b'{"x":1}').decode(), "e30"])
def test_bad_token_is_400_naming_token(api, token) -> None:
    r = api.get("/v3/voices", params={"token": token})
    assert r.status_code == 400
    assert r.json()["error"] == {**r.json()["error"], "code": "invalid_parameter", "param": "token"}


def test_token_of_another_filter_is_rejected(api) -> None:
    token = api.get("/v3/voices", params={"limit": 5}).json()["next_token"]
    r = api.get("/v3/voices", params={"limit": 5, "token": token, "engine": "starfish"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "token"


def test_voice_filters(api) -> None:
    starfish, _ = _walk(api, "/v3/voices", limit=100, engine="starfish")
    assert starfish and all(len(v["voice_id"]) == 32 for v in starfish)
    english = api.get("/v3/voices", params={"language": "English", "gender": "female", "limit": 100}).json()["data"]
    assert english and all(v["language"].strip() == "English" and v["gender"].lower() == "female" for v in english)
    r = api.get("/v3/voices", params={"type": "secret"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "type"


def test_voice_detail_and_unknown_voice(api) -> None:
    data = api.get(f"/v3/voices/{VOICE_EN}").json()["data"]
    assert data["voice_id"] == VOICE_EN and "support_interactive_avatar" in data and "created_at" in data
    r = api.get("/v3/voices/doesnotexist")
    assert r.status_code == 404 and r.json()["error"]["code"].endswith("not_found")


def test_looks_and_groups(api) -> None:
    looks = api.get("/v3/avatars/looks", params={"group_id": "Abigail", "limit": 50}).json()["data"]
    assert looks and {lk["group_id"] for lk in looks} == {"Abigail"}
    look = api.get(f"/v3/avatars/looks/{LOOK}").json()["data"]
    assert look["id"] == LOOK and "avatar_iv" in look["supported_api_engines"]
    group = api.get("/v3/avatars/Abigail").json()["data"]
    assert group["looks_count"] == len(looks)
    private = api.get("/v3/avatars/looks", params={"ownership": "private"}).json()["data"]
    assert private and all(lk["avatar_type"] == "digital_twin" for lk in private)
    twins = api.get("/v3/avatars/looks", params={"avatar_type": "digital_twin"}).json()["data"]
    assert {lk["id"] for lk in twins} == {lk["id"] for lk in private}
    assert api.get("/v3/avatars/looks/nope").status_code == 404
    assert api.get("/v3/avatars/nope").status_code == 404


def test_previews_are_served_locally_without_a_key(api, sandbox) -> None:
    voice = api.get(f"/v3/voices/{VOICE_EN}").json()["data"]
    look = api.get(f"/v3/avatars/looks/{LOOK}").json()["data"]
    assert voice["preview_audio_url"] == f"{sandbox.url}/_sandbox/media/voice/{VOICE_EN}.wav"
    audio = requests.get(voice["preview_audio_url"], timeout=10)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    image = requests.get(look["preview_image_url"], timeout=10)
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert requests.get(sandbox.url + "/_sandbox/media/voice/unknown.wav", timeout=5).status_code == 404


def test_null_previews_stay_null_and_original_media_keeps_urls(sandbox_factory) -> None:
    server = sandbox_factory(original_media=True)
    voices = Api(server.url).get("/v3/voices", params={"limit": 100}).json()["data"]
    urls = [v["preview_audio_url"] for v in voices]
    assert not any(u and "/_sandbox/" in u for u in urls)
    local = Api(sandbox_factory().url).get("/v3/voices", params={"limit": 100}).json()["data"]
    for original, rewritten in zip(voices, local, strict=True):
        assert (original["preview_audio_url"] is None) == (rewritten["preview_audio_url"] is None)


def test_token_payload_is_json_with_last_id(api) -> None:
    token = api.get("/v3/voices", params={"limit": 3}).json()["next_token"]
    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert "last_id" in payload
