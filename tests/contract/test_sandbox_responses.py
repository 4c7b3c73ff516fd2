"""Every sandbox success response validates against HeyGen's official v3 response schema."""

from __future__ import annotations

import pytest

from core.heygen import schemas
from tests.sandbox.sandbox_support import LOOK, VOICE_EN, Api


@pytest.fixture
def world(sandbox_factory):
    """A sandbox with one completed video, one pending video and a webhook endpoint."""
    server = sandbox_factory(render_media=False)
    api = Api(server.url)
    done = api.create().json()["data"]["video_id"]
    api.wait(done)
    api.post("/_sandbox/faults", json={"stuck_next": 1})
    stuck = api.create().json()["data"]["video_id"]
    endpoint = api.post("/v3/webhooks/endpoints", json={"url": "https://example.com/hook"}).json()["data"]
    return api, {"done": done, "stuck": stuck, "endpoint": endpoint["endpoint_id"]}


CALLS = [
    ("GET", "/v3/voices", "/v3/voices?limit=5", None),
    ("GET", "/v3/voices", "/v3/voices?type=private", None),
    ("GET", "/v3/voices/{voice_id}", f"/v3/voices/{VOICE_EN}", None),
    ("GET", "/v3/avatars", "/v3/avatars?limit=50", None),
    ("GET", "/v3/avatars/{group_id}", "/v3/avatars/Abigail", None),
    ("GET", "/v3/avatars/looks", "/v3/avatars/looks?limit=50&ownership=private", None),
    ("GET", "/v3/avatars/looks", "/v3/avatars/looks?limit=50", None),
    ("GET", "/v3/avatars/looks/{look_id}", f"/v3/avatars/looks/{LOOK}", None),
    ("POST", "/v3/videos", "/v3/videos", "studio"),
    ("GET", "/v3/videos", "/v3/videos", None),
    ("GET", "/v3/videos/{video_id}", "/v3/videos/{done}", None),
    ("GET", "/v3/videos/{video_id}", "/v3/videos/{stuck}", None),
    ("GET", "/v3/videos/statuses", "/v3/videos/statuses?video_ids={done},{stuck},nope", None),
    ("DELETE", "/v3/videos/{video_id}", "/v3/videos/{stuck}", None),
    ("POST", "/v3/voices/speech", "/v3/voices/speech", "speech"),
    ("GET", "/v3/users/me", "/v3/users/me", None),
    ("POST", "/v3/webhooks/endpoints", "/v3/webhooks/endpoints", "endpoint"),
    ("GET", "/v3/webhooks/endpoints", "/v3/webhooks/endpoints", None),
    ("PATCH", "/v3/webhooks/endpoints/{endpoint_id}", "/v3/webhooks/endpoints/{endpoint}", "patch"),
    ("POST", "/v3/webhooks/endpoints/{endpoint_id}/rotate-secret", "/v3/webhooks/endpoints/{endpoint}/rotate-secret",
     None),
    ("GET", "/v3/webhooks/event-types", "/v3/webhooks/event-types", None),
    ("GET", "/v3/webhooks/events", "/v3/webhooks/events", None),
    ("DELETE", "/v3/webhooks/endpoints/{endpoint_id}", "/v3/webhooks/endpoints/{endpoint}", None),
]
BODIES = {
    "studio": {"type": "studio", "scenes": [{"type": "avatar_video", "input": {
        "type": "avatar", "avatar_id": LOOK, "script": "Hello.", "voice_id": VOICE_EN}}]},
    "speech": {"text": "Hello there.", "voice_id": VOICE_EN},
    "endpoint": {"url": "https://example.com/other", "events": ["avatar_video.fail"]},
    "patch": {"events": ["avatar_video.success"]},
}


def test_every_endpoint_response_matches_the_official_schema(world) -> None:
    api, ids = world
    for method, template, path, body in CALLS:
        response = api.request(method, path.format(**ids), json=BODIES.get(body))
        assert response.status_code == 200, (method, path, response.text)
        problems = schemas.validate_response(method, template, response.json())
        assert problems == [], (method, template, problems)
    assert schemas.validate_response("GET", "/v3/webhooks/events", api.get("/v3/webhooks/events").json()) == []
    assert api.get("/v3/webhooks/events").json()["data"][0]["event_type"] == "avatar_video.success"


def test_error_envelope_shape(world) -> None:
    api, _ = world
    error = api.get("/v3/videos/" + "0" * 32).json()
    assert set(error) == {"error"} and {"code", "message", "doc_url"} <= set(error["error"])
