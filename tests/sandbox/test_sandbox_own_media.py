"""Own media in the sandbox over loopback: assets, photo avatar training, consent, voice clones and
studio scenes that speak an uploaded recording."""

from __future__ import annotations

import io
import subprocess

import imageio_ffmpeg
import pytest
import requests
from PIL import Image

from core.sandbox.own_media import ASSET_MAX_BYTES
from tests.sandbox.sandbox_support import (
    LOOK,
    VOICE_EN,
    Api,
    jpeg_bytes,
    poll,
    studio_body,
    upload,
    wav_bytes,
)


def audio_seconds(path) -> float:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    stamp = out.rsplit("time=", 1)[1].split()[0]
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture
def api(sandbox_factory) -> Api:
    return Api(sandbox_factory().url)


def test_asset_lifecycle(api):
    data = wav_bytes(2.0)
    created = upload(api, data, "../sub/ünï line.wav")
    assert created.status_code == 200
    asset = created.json()["data"]
    assert asset["mime_type"] == "audio/wav" and asset["size_bytes"] == len(data)
    assert requests.get(asset["url"], timeout=10).content == data
    got = api.get(f"/v3/assets/{asset['asset_id']}").json()["data"]
    assert got["name"] == "ünï line.wav" and got["type"] == "audio"
    listed = api.get("/v3/assets?username=sandbox").json()["data"]
    assert [a["id"] for a in listed] == [asset["asset_id"]]
    assert api.delete(f"/v3/assets/{asset['asset_id']}").json() == {"data": {"id": asset["asset_id"]}}
    assert api.get(f"/v3/assets/{asset['asset_id']}").status_code == 404
    assert requests.get(asset["url"], timeout=10).status_code == 404
    assert api.delete(f"/v3/assets/{asset['asset_id']}").status_code == 404


@pytest.mark.parametrize(("data", "name", "status", "code"), [
    (b"", "empty.wav", 400, "invalid_parameter"),
    (b"just some text, not media", "notes.wav", 400, "invalid_parameter"),
    (b"\0" * (ASSET_MAX_BYTES + 1), "big.wav", 413, "payload_too_large"),
], ids=["empty", "unsupported", "over-32-MB"])
def test_bad_uploads_answer_heygens_error_and_store_nothing(api, data, name, status, code):
    answer = upload(api, data, name)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and error["param"] == "file" and error["doc_url"].startswith("https://")
    assert api.get("/v3/assets?username=sandbox").json()["data"] == []


def test_upload_detects_the_type_from_the_bytes(api):
    png = io.BytesIO()
    Image.new("RGB", (20, 20)).save(png, format="PNG")
    asset = upload(api, png.getvalue(), "really-a-png.wav").json()["data"]
    assert asset["mime_type"] == "image/png"


def test_repeated_upload_key_returns_the_first_asset(api):
    first = upload(api, wav_bytes(1.0), key="upload-1").json()["data"]
    again = upload(api, wav_bytes(1.0), key="upload-1")
    assert again.json()["data"]["asset_id"] == first["asset_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/v3/assets?username=sandbox").json()["data"]) == 1


def test_photo_avatar_trains_and_becomes_a_private_look(api):
    image = upload(api, jpeg_bytes(), "me.jpg").json()["data"]
    created = api.post("/v3/avatars", json={"type": "photo", "name": "Me",
                                             "file": {"type": "asset_id", "asset_id": image["asset_id"]}})
    assert created.status_code == 200
    group, look = created.json()["data"]["avatar_group"], created.json()["data"]["avatar_item"]
    assert group["status"] == look["status"] == "processing" and look["avatar_type"] == "photo_avatar"
    private = api.get("/v3/avatars/looks?ownership=private").json()["data"]
    assert look["id"] not in [lk["id"] for lk in private]  # not usable while training
    done = poll(api, f"/v3/avatars/{group['id']}", lambda g: g["status"] != "processing")
    assert done["status"] == "completed"
    detail = api.get(f"/v3/avatars/looks/{look['id']}").json()["data"]
    assert detail["status"] == "completed" and detail["preferred_orientation"] == "portrait"
    assert (detail["image_width"], detail["image_height"]) == (400, 500)
    assert look["id"] in [lk["id"] for lk in api.get("/v3/avatars/looks?ownership=private").json()["data"]]
    body = studio_body({"type": "avatar_video", "input": {"type": "avatar", "avatar_id": look["id"],
                                                          "script": "Hello.", "voice_id": VOICE_EN}})
    video = api.create(body).json()["data"]["video_id"]
    assert api.wait(video)["status"] == "completed"


def test_a_look_in_training_cannot_be_used(sandbox_factory):
    api = Api(sandbox_factory(time_scale=1.0).url)  # trains for 20 s
    image = upload(api, jpeg_bytes(), "me.jpg").json()["data"]
    look = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": image["asset_id"]}}).json()["data"]["avatar_item"]
    answer = api.create(studio_body({"type": "avatar_video", "input": {
        "type": "avatar", "avatar_id": look["id"], "script": "Hi.", "voice_id": VOICE_EN}}))
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "scenes.0.input.avatar_id"
    assert "not ready" in answer.json()["error"]["message"]


@pytest.mark.parametrize(("knob", "image", "code"), [
    (True, jpeg_bytes(), "face_not_detected"),
    (False, jpeg_bytes(60, 60), "image_too_small"),
], ids=["forced", "too-small"])
def test_photo_avatar_training_can_fail_with_a_reason(api, knob, image, code):
    if knob:
        api.post("/_sandbox/faults", json={"avatar_fail_next": 1})
    asset = upload(api, image, "me.jpg").json()["data"]
    group = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": asset["asset_id"]}}).json()["data"]["avatar_group"]
    failed = poll(api, f"/v3/avatars/{group['id']}", lambda g: g["status"] != "processing")
    assert failed["status"] == "failed" and failed["error"]["code"] == code and failed["error"]["message"]


def test_photo_avatar_needs_an_image_asset(api):
    audio = upload(api, wav_bytes(1.0)).json()["data"]
    answer = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": audio["asset_id"]}})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "file.asset_id"
    missing = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": "nope"}})
    assert missing.status_code == 404


def test_consent_gates_a_trained_photo_avatar(sandbox_factory):
    api = Api(sandbox_factory(photo_avatar_consent=True).url)
    image = upload(api, jpeg_bytes(), "me.jpg").json()["data"]
    created = api.post("/v3/avatars", json={"type": "photo", "name": "Me", "file": {
        "type": "asset_id", "asset_id": image["asset_id"]}}).json()["data"]
    group_id, look_id = created["avatar_group"]["id"], created["avatar_item"]["id"]
    waiting = poll(api, f"/v3/avatars/{group_id}", lambda g: g["status"] != "processing")
    assert waiting["status"] == "pending_consent" and waiting["consent_status"] == "pending"
    scene = {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": look_id, "script": "Hi.",
                                               "voice_id": VOICE_EN}}
    assert api.create(studio_body(scene)).status_code == 400
    consent = api.post(f"/v3/avatars/{group_id}/consent", json={}).json()["data"]
    assert "I consent" in requests.get(consent["url"], timeout=10).text
    requests.post(consent["url"], timeout=10)
    group = api.get(f"/v3/avatars/{group_id}").json()["data"]
    assert group["status"] == "completed" and group["consent_status"] == "approved"
    assert api.create(studio_body(scene)).status_code == 200


def test_voice_clone_becomes_a_private_voice_for_speech_and_videos(api):
    sample = upload(api, wav_bytes(12.0)).json()["data"]
    clone_id = api.post("/v3/voices/clone", json={"voice_name": "My voice", "audio": {
        "type": "asset_id", "asset_id": sample["asset_id"]}}).json()["data"]["voice_clone_id"]
    assert api.get(f"/v3/voices/{clone_id}").json()["data"]["status"] == "processing"
    done = poll(api, f"/v3/voices/{clone_id}", lambda v: v["status"] != "processing")
    assert done["status"] == "complete" and done["preview_audio_url"]
    assert requests.get(done["preview_audio_url"], timeout=10).content[:4] == b"RIFF"
    private = api.get("/v3/voices?type=private").json()["data"]
    assert private[0]["voice_id"] == clone_id and private[0]["type"] == "private"
    speech = api.post("/v3/voices/speech", json={"text": "Hello there.", "voice_id": clone_id})
    assert speech.status_code == 200
    video = api.create(studio_body({"type": "avatar_video", "input": {
        "type": "avatar", "avatar_id": LOOK, "script": "Hello.", "voice_id": clone_id}})).json()["data"]
    assert api.wait(video["video_id"])["status"] == "completed"


@pytest.mark.parametrize(("knob", "seconds", "message"), [
    (True, 12.0, "background noise"), (False, 3.0, "too short")], ids=["forced", "too-short"])
def test_voice_clone_can_fail_with_a_reason(api, knob, seconds, message):
    if knob:
        api.post("/_sandbox/faults", json={"clone_fail_next": 1})
    sample = upload(api, wav_bytes(seconds)).json()["data"]
    clone_id = api.post("/v3/voices/clone", json={"voice_name": "Me", "audio": {
        "type": "asset_id", "asset_id": sample["asset_id"]}}).json()["data"]["voice_clone_id"]
    failed = poll(api, f"/v3/voices/{clone_id}", lambda v: v["status"] != "processing")
    assert failed["status"] == "failed" and message in failed["failure_message"]
    assert clone_id not in [v["voice_id"] for v in api.get("/v3/voices?type=private").json()["data"]]


def test_a_scene_with_audio_asset_id_renders_that_audio(api, tmp_path):
    sample = upload(api, wav_bytes(3.7)).json()["data"]
    body = studio_body(
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": LOOK, "script": "Hello.",
                                           "voice_id": VOICE_EN}},
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": LOOK,
                                           "audio_asset_id": sample["asset_id"]}})
    done = api.wait(api.create(body).json()["data"]["video_id"])
    assert done["status"] == "completed"
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(requests.get(done["video_url"], timeout=10).content)
    assert audio_seconds(mp4) >= 3.7 + 0.5


def test_audio_asset_id_must_be_own_readable_audio(api):
    image = upload(api, jpeg_bytes(), "me.jpg").json()["data"]
    for asset_id, words in (("nope", "does not exist"), (image["asset_id"], "not a readable audio")):
        answer = api.create(studio_body({"type": "avatar_video", "input": {
            "type": "avatar", "avatar_id": LOOK, "audio_asset_id": asset_id}}))
        error = answer.json()["error"]
        assert answer.status_code == 400 and error["param"] == "scenes.0.input.audio_asset_id"
        assert words in error["message"]
