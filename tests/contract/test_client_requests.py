"""Every request body the client (and the reel builder) sends validates against HeyGen's official
v3 request schema, and HeyGen's documented example responses parse into the client's objects and
validate against the official response schemas."""

from __future__ import annotations

import json

import pytest
import responses

from core.heygen import HeyGenClient, schemas
from core.reels.body import build_studio_body
from core.reels.drafts import create_reel, set_scenes
from core.reels.validation import SceneInput
from tests.people import person

BASE = "https://api.heygen.com"
LOOK, VOICE = "Abigail_expressive_2024112501", "cef3bc4e0a84424cafcde6f2cf466c97"


@pytest.fixture
def client() -> HeyGenClient:
    return HeyGenClient("contract-test-key", base_url=BASE, cache_location=None)


def sent_body(mocked: responses.RequestsMock) -> dict:
    return json.loads(mocked.calls[-1].request.body)


@pytest.mark.parametrize("body", [
    {"type": "avatar", "avatar_id": LOOK, "script": "Hello there.", "voice_id": VOICE,
     "voice_settings": {"speed": 1.1, "locale": "en-GB"}, "aspect_ratio": "9:16"},
    {"type": "studio", "aspect_ratio": "1:1", "resolution": "720p", "scenes": [
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": LOOK, "script": "One.", "voice_id": VOICE,
                                           "background": {"type": "color", "color": "#112233"}}}]},
], ids=["avatar", "studio"])
def test_create_video_bodies_validate(client, body):
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/v3/videos", json={"data": {"video_id": "v1", "status": "waiting"}})
        client.create_video(body, idempotency_key="reel-1-1")
        assert schemas.validate_request("POST", "/v3/videos", sent_body(mocked)) == []


def test_studio_body_built_from_a_reel_validates(session_factory, catalog_index, client):
    with session_factory() as session:
        reel = create_reel(session, actor=person("Ana"), title="Contract", captions=True)
        voice = next(v for v in catalog_index.voices if catalog_index.locales(v.voice_id))
        look = next(iter(catalog_index.looks))
        set_scenes(session, reel.id, actor=person("Ana"), scenes=[
            SceneInput(position=n, avatar_id=look.id, voice_id=voice.voice_id, script=f"Scene {n} says hello.",
                       speed=1.2, pitch=-3, locale=catalog_index.locales(voice.voice_id)[0],
                       background_color="#F4F1EA")
            for n in (1, 2, 3)])
        session.commit()
        body = build_studio_body(session.get(type(reel), reel.id), catalog_index, callback_id="reel-1-1")
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/v3/videos", json={"data": {"video_id": "v1", "status": "waiting"}})
        client.create_video(body, idempotency_key="reel-1-1")
        sent = sent_body(mocked)
    assert sent == body and schemas.validate_request("POST", "/v3/videos", sent) == []
    assert sent["caption"] == {"file_format": "srt"} and len(sent["scenes"]) == 3


def test_speech_and_webhook_bodies_validate(client):
    with responses.RequestsMock() as mocked:
        mocked.post(f"{BASE}/v3/voices/speech", json={"data": {"audio_url": "https://x/a.mp3", "duration": 1.5}})
        client.generate_speech("Hello there.", VOICE, speed=1.5, locale="en-GB")
        assert schemas.validate_request("POST", "/v3/voices/speech", sent_body(mocked)) == []
        mocked.post(f"{BASE}/v3/webhooks/endpoints", json={"data": {
            "endpoint_id": "ep_1", "url": "https://example.com/hook", "events": None, "status": "enabled",
            "created_at": "2026-11-21T00:00:00Z", "secret": "whsec_abc"}})
        client.create_webhook_endpoint("https://example.com/hook", events=["avatar_video.success"])
        assert schemas.validate_request("POST", "/v3/webhooks/endpoints", sent_body(mocked)) == []


#: HeyGen's documented example responses (docs/heygen-v3.md §4.3, §5.1, §5.5, §6.1, §6.2).
EXAMPLES = {
    ("POST", "/v3/videos"): {"data": {"video_id": "abc", "status": "waiting", "output_format": "mp4"}},
    ("GET", "/v3/videos/{video_id}"): {"data": {
        "id": "abc", "status": "failed", "title": None, "created_at": 1763700000, "completed_at": None,
        "duration": None, "video_url": None, "thumbnail_url": None, "failure_code": "MOVIO_PAYMENT_INSUFFICIENT_CREDIT",
        "failure_message": "Insufficient credit. This operation requires 'plan_credit' or 'api' credits."}},
    ("POST", "/v3/voices/speech"): {"data": {"audio_url": "https://x/a.mp3", "duration": 2.4, "request_id": None,
                                             "word_timestamps": [{"word": "Hello", "start": 0.0, "end": 0.45}]}},
    ("GET", "/v3/users/me"): {"data": {
        "username": "jane_doe", "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe",
        "billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": 42.5,
                                             "auto_reload": {"enabled": False, "threshold_usd": None,
                                                             "amount_usd": None}},
        "subscription": None, "usage_based": None}},
}


@pytest.mark.parametrize(("method", "path"), list(EXAMPLES), ids=lambda v: str(v))
def test_documented_examples_validate_against_the_response_schema(method, path):
    assert schemas.validate_response(method, path, EXAMPLES[(method, path)]) == []


def test_documented_examples_parse_into_client_objects(client):
    with responses.RequestsMock() as mocked:
        mocked.get(f"{BASE}/v3/users/me", json=EXAMPLES[("GET", "/v3/users/me")])
        mocked.get(f"{BASE}/v3/videos/abc", json=EXAMPLES[("GET", "/v3/videos/{video_id}")])
        me = client.get_current_user()
        video = client.get_video("abc")
    assert me.balance_text == "$42.50"
    assert video.status == "failed" and video.failure_code == "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
