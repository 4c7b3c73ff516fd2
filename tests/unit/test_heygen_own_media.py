"""HeyGenClient's own-media calls against mocked HTTP: streamed uploads, retries, photo avatars, clones."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

import core.heygen.media_calls as media_calls
from core.heygen import (
    HeyGenClient,
    InvalidRequestError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    ServerError,
    uploads,
)

LIVE = "https://api.heygen.com"
UPLOADED = {"data": {"asset_id": "as_1", "url": "https://files/as_1.wav", "mime_type": "audio/wav",
                     "size_bytes": 10}}
GROUP = {"id": "g1", "name": "Me", "created_at": 1, "looks_count": 1, "status": "processing",
         "consent_status": None}
LOOK = {"id": "l1", "name": "Me", "avatar_type": "photo_avatar", "group_id": "g1", "status": "processing"}


@pytest.fixture
def ordered():
    with responses.RequestsMock(assert_all_requests_are_fired=False, registry=OrderedRegistry) as rsps:
        yield rsps


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(media_calls, "_sleep", waits.append)
    return waits


@pytest.fixture
def client() -> HeyGenClient:
    return HeyGenClient("unit-test-key", LIVE, cache_location=None)


def test_upload_streams_the_file_as_multipart_and_reports_progress(ordered, client, tmp_path):
    path = tmp_path / "line.wav"
    path.write_bytes(b"RIFF" + b"x" * 5000)
    ordered.post(f"{LIVE}/v3/assets", json=UPLOADED)
    seen: list[tuple[int, int]] = []
    asset = client.upload_asset(path, filename="line.wav", content_type="audio/wav",
                                progress=lambda sent, total: seen.append((sent, total)))
    request = ordered.calls[0].request
    assert asset.asset_id == "as_1" and asset.mime_type == "audio/wav"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert request.headers["X-Api-Key"] == "unit-test-key"
    body = request.body.read() if hasattr(request.body, "read") else request.body
    assert b'name="file"; filename="line.wav"' in body and b"RIFF" + b"x" * 5000 in body
    assert seen and seen[-1][0] == seen[-1][1] == int(request.headers["Content-Length"])


def test_upload_over_32_mb_is_refused_before_sending(ordered, client):
    with pytest.raises(PayloadTooLargeError) as err:
        client.upload_asset(b"x" * (uploads.ASSET_MAX_BYTES + 1), filename="big.wav")
    assert not ordered.calls and "32 MB" in str(err.value)


def test_upload_413_and_400_become_typed_errors(ordered, client):
    ordered.post(f"{LIVE}/v3/assets", status=413, json={"error": {"code": "payload_too_large", "message": "big"}})
    ordered.post(f"{LIVE}/v3/assets", status=400, json={"error": {
        "code": "invalid_parameter", "message": "Unsupported file type.", "param": "file"}})
    with pytest.raises(PayloadTooLargeError):
        client.upload_asset(b"data", filename="a.wav")
    with pytest.raises(InvalidRequestError) as err:
        client.upload_asset(b"data", filename="a.wav")
    assert err.value.param == "file" and "Unsupported file type" in str(err.value)


def test_upload_with_a_key_is_resent_after_a_5xx_and_a_dropped_connection(ordered, client, slept):
    ordered.post(f"{LIVE}/v3/assets", status=502, body="<html>bad gateway</html>")
    ordered.post(f"{LIVE}/v3/assets", body=requests.ConnectionError("reset"))
    ordered.post(f"{LIVE}/v3/assets", json=UPLOADED)
    asset = client.upload_asset(b"abc", filename="a.wav", idempotency_key="asset-7")
    assert asset.asset_id == "as_1" and len(ordered.calls) == 3 and len(slept) == 2
    assert {c.request.headers["Idempotency-Key"] for c in ordered.calls} == {"asset-7"}
    sent = [c.request.body.read() if hasattr(c.request.body, "read") else c.request.body for c in ordered.calls]
    assert all(b"abc" in body for body in sent)  # every attempt sends the whole file again


def test_upload_without_a_key_is_not_resent_after_a_5xx(ordered, client):
    ordered.post(f"{LIVE}/v3/assets", status=500, json={"error": {"code": "internal_error", "message": "x"}})
    with pytest.raises(ServerError):
        client.upload_asset(b"abc", filename="a.wav")
    assert len(ordered.calls) == 1


def test_upload_retries_a_429_even_without_a_key(ordered, client, slept):
    ordered.post(f"{LIVE}/v3/assets", status=429, headers={"Retry-After": "3"},
                 json={"error": {"code": "rate_limit_exceeded", "message": "slow down"}})
    ordered.post(f"{LIVE}/v3/assets", json=UPLOADED)
    assert client.upload_asset(b"abc", filename="a.wav").asset_id == "as_1"
    assert slept[0] >= 3


def test_upload_network_failures_exhaust_into_network_error(ordered, client):
    for _ in range(3):
        ordered.post(f"{LIVE}/v3/assets", body=requests.ConnectionError("down"))
    with pytest.raises(NetworkError):
        client.upload_asset(b"abc", filename="a.wav", idempotency_key="k1")
    assert len(ordered.calls) == 3


def test_asset_get_list_delete(ordered, client):
    item = {"id": "as_1", "name": "line.wav", "type": "audio", "owner": "ana", "space_id": "s",
            "uploaded_at": 5, "url": None}
    ordered.get(f"{LIVE}/v3/assets/as_1", json={"data": item})
    ordered.get(f"{LIVE}/v3/assets", json={"data": [item], "has_more": True, "next_token": "t2"})
    ordered.get(f"{LIVE}/v3/assets", json={"data": [{**item, "id": "as_0"}], "has_more": False, "next_token": None})
    ordered.delete(f"{LIVE}/v3/assets/as_1", json={"data": {"id": "as_1"}})
    ordered.get(f"{LIVE}/v3/assets/as_1", status=404, json={"error": {"code": "not_found", "message": "gone"}})
    assert client.get_asset("as_1").type == "audio"
    assert [a.id for a in client.list_assets("ana")] == ["as_1", "as_0"]
    assert "username=ana" in ordered.calls[1].request.url and "token=t2" in ordered.calls[2].request.url
    client.delete_asset("as_1")
    with pytest.raises(NotFoundError):
        client.get_asset("as_1")


def test_photo_avatar_create_poll_and_consent(ordered, client):
    ordered.post(f"{LIVE}/v3/avatars", json={"data": {"avatar_group": GROUP, "avatar_item": LOOK}})
    ordered.get(f"{LIVE}/v3/avatars/g1", json={"data": {**GROUP, "status": "pending_consent",
                                                        "consent_status": "pending"}})
    ordered.post(f"{LIVE}/v3/avatars/g1/consent", json={"data": {"avatar_group": GROUP, "url": "https://c/1"}})
    ordered.get(f"{LIVE}/v3/avatars/looks", json={"data": [{**LOOK, "status": "failed", "error": {
        "code": "face_not_detected", "message": "No face."}}], "has_more": False, "next_token": None})
    created = client.create_photo_avatar("Me", "as_img", idempotency_key="avatar-1")
    assert json.loads(ordered.calls[0].request.body) == {"type": "photo", "name": "Me",
                                                          "file": {"type": "asset_id", "asset_id": "as_img"}}
    assert ordered.calls[0].request.headers["Idempotency-Key"] == "avatar-1"
    assert created.avatar_item.status == "processing" and created.avatar_group.id == "g1"
    assert client.get_avatar_group("g1").status == "pending_consent"
    assert client.create_avatar_consent("g1").url == "https://c/1"
    looks = client.list_group_looks("g1")
    assert looks[0].error == {"code": "face_not_detected", "message": "No face."}
    assert "group_id=g1" in ordered.calls[3].request.url


def test_clone_voice_and_poll(ordered, client):
    ordered.post(f"{LIVE}/v3/voices/clone", json={"data": {"voice_clone_id": "vc1"}})
    ordered.get(f"{LIVE}/v3/voices/vc1", json={"data": {"voice_id": "vc1", "support_pause": False,
                                                         "status": "failed", "failure_message": "Too noisy."}})
    assert client.clone_voice("My voice", "as_1", language="en") == "vc1"
    assert json.loads(ordered.calls[0].request.body) == {
        "voice_name": "My voice", "audio": {"type": "asset_id", "asset_id": "as_1"}, "language": "en"}
    detail = client.get_voice("vc1", refresh=True)
    assert detail.status == "failed" and detail.failure_message == "Too noisy."


def test_clone_voice_is_sent_once_on_a_5xx(ordered, client):
    ordered.post(f"{LIVE}/v3/voices/clone", status=503, json={"error": {"code": "internal_error", "message": "x"}})
    with pytest.raises(ServerError):
        client.clone_voice("My voice", "as_1")
    assert len(ordered.calls) == 1
