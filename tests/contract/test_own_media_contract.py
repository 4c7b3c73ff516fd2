"""Own-media calls keep HeyGen's contract: every request the client sends validates against the official
v3 request schema, and every sandbox response against the official response schema."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient, schemas
from tests.sandbox.sandbox_support import Api, jpeg_bytes, poll, upload, wav_bytes

BASE = "https://api.heygen.com"


def multipart_fields(request) -> dict[str, str]:
    """The form fields of a multipart request (file contents replaced by a marker string)."""
    body = request.body.read() if hasattr(request.body, "read") else request.body
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    return {part.get_param("name", header="content-disposition"): "<file>" for part in message.iter_parts()}


def test_client_request_bodies_validate():
    client = HeyGenClient("contract-test-key", base_url=BASE, cache_location=None)
    group = {"id": "g1", "name": "Me", "created_at": 1, "looks_count": 1}
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/v3/assets", json={"data": {"asset_id": "a", "url": "u", "mime_type": "audio/wav",
                                                        "size_bytes": 3}})
        mocked.post(f"{BASE}/v3/avatars", json={"data": {"avatar_group": group, "avatar_item": None}})
        mocked.post(f"{BASE}/v3/avatars/g1/consent", json={"data": {"avatar_group": group, "url": "https://c"}})
        mocked.post(f"{BASE}/v3/voices/clone", json={"data": {"voice_clone_id": "vc"}})
        mocked.get(f"{BASE}/v3/assets", json={"data": [], "has_more": False, "next_token": None})
        mocked.get(f"{BASE}/v3/avatars/looks", json={"data": [], "has_more": False, "next_token": None})
        client.upload_asset(b"abc", filename="line.wav", content_type="audio/wav")
        client.create_photo_avatar("Me", "a", avatar_group_id="g0")
        client.create_avatar_consent("g1", reroute_url="https://example.com/back")
        client.create_avatar_consent("g1")
        client.clone_voice("My voice", "a", language="en", remove_background_noise=False)
        client.list_assets("ana")
        client.list_group_looks("g1")
        calls = list(mocked.calls)
    for call, template in ((calls[-2], "/v3/assets"), (calls[-1], "/v3/avatars/looks")):
        query = {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}
        assert schemas.validate_query("GET", template, query) == [], template
    calls = calls[:-2]
    assert schemas.validate_request("POST", "/v3/assets", multipart_fields(calls[0].request)) == []
    for call, template in zip(calls[1:], ("/v3/avatars", "/v3/avatars/{group_id}/consent",
                                          "/v3/avatars/{group_id}/consent", "/v3/voices/clone"), strict=True):
        assert schemas.validate_request("POST", template, json.loads(call.request.body)) == [], template


@pytest.fixture
def media_world(sandbox_factory):
    """A sandbox with an uploaded recording and photo, a trained photo avatar and a complete clone."""
    api = Api(sandbox_factory(render_media=False, photo_avatar_consent=True).url, key=SANDBOX_API_KEY)
    audio = upload(api, wav_bytes(11.0)).json()["data"]
    image = upload(api, jpeg_bytes(), "me.jpg").json()["data"]
    created = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": image["asset_id"]}})
    clone = api.post("/v3/voices/clone", json={"voice_name": "Me", "audio": {
        "type": "asset_id", "asset_id": audio["asset_id"]}})
    ids = {"audio": audio["asset_id"], "image": image["asset_id"], "clone": clone.json()["data"]["voice_clone_id"],
           "group": created.json()["data"]["avatar_group"]["id"], "look": created.json()["data"]["avatar_item"]["id"]}
    responses_ = {("POST", "/v3/assets"): upload(api, wav_bytes(1.0)).json(), ("POST", "/v3/avatars"): created.json(),
                  ("POST", "/v3/voices/clone"): clone.json()}
    poll(api, f"/v3/avatars/{ids['group']}", lambda g: g["status"] != "processing")
    poll(api, f"/v3/voices/{ids['clone']}", lambda v: v["status"] != "processing")
    return api, ids, responses_


CALLS = [
    ("GET", "/v3/assets/{asset_id}", "/v3/assets/{audio}"),
    ("GET", "/v3/assets", "/v3/assets?username=sandbox"),
    ("GET", "/v3/avatars/{group_id}", "/v3/avatars/{group}"),
    ("GET", "/v3/avatars/looks/{look_id}", "/v3/avatars/looks/{look}"),
    ("GET", "/v3/avatars/looks", "/v3/avatars/looks?group_id={group}"),
    ("GET", "/v3/avatars", "/v3/avatars?ownership=private"),
    ("GET", "/v3/voices/{voice_id}", "/v3/voices/{clone}"),
    ("GET", "/v3/voices", "/v3/voices?type=private"),
    ("POST", "/v3/avatars/{group_id}/consent", "/v3/avatars/{group}/consent"),
    ("DELETE", "/v3/assets/{asset_id}", "/v3/assets/{image}"),
]


def test_every_own_media_response_matches_the_official_schema(media_world):
    api, ids, created = media_world
    for (method, template), payload in created.items():
        assert schemas.validate_response(method, template, payload) == [], template
    for method, template, path in CALLS:
        response = api.request(method, path.format(**ids), json={} if method == "POST" else None)
        assert response.status_code == 200, (method, path, response.text)
        assert schemas.validate_response(method, template, response.json()) == [], (method, template)


def test_own_media_errors_use_heygens_envelope(media_world):
    api, _, _ = media_world
    for response in (upload(api, b""), api.get("/v3/assets/nope"), api.get("/v3/voices/nope")):
        error = response.json()
        assert set(error) == {"error"} and {"code", "message", "doc_url"} <= set(error["error"])
