"""Wallet, pricing and text-to-speech of the sandbox."""

from __future__ import annotations

import requests

from core.sandbox.videos import FAILED_CREDIT_CODE, FAILED_CREDIT_MESSAGE
from tests.sandbox.sandbox_support import VOICE_EN, Api, scene, studio_body

TEN_SECONDS = " ".join(["word"] * 25)  # 25 words at 150 wpm = 10 s


def _balance(api: Api) -> float:
    return api.get("/v3/users/me").json()["data"]["wallet"]["remaining_balance"]


def test_completion_charges_per_started_second(sandbox_factory) -> None:
    api = Api(sandbox_factory(render_media=False, balance_usd=10.0).url)
    me = api.get("/v3/users/me").json()["data"]
    assert me["billing_type"] == "wallet" and me["wallet"]["currency"] == "usd" and _balance(api) == 10.0
    video_id = api.create(studio_body(scene(TEN_SECONDS), resolution="4k")).json()["data"]["video_id"]
    assert api.wait(video_id)["status"] == "completed"
    assert _balance(api) == round(10.0 - 10 * 0.0833, 4)  # studio avatar, Avatar IV, 4K


def test_empty_wallet_is_402_at_submit(sandbox_factory) -> None:
    api = Api(sandbox_factory(balance_usd=0.0).url)
    r = api.create()
    assert r.status_code == 402 and r.json()["error"]["code"] == "insufficient_credit"


def test_too_little_credit_fails_at_completion_without_charge(sandbox_factory) -> None:
    api = Api(sandbox_factory(render_media=False, balance_usd=0.05).url)
    video_id = api.create(studio_body(scene(TEN_SECONDS))).json()["data"]["video_id"]
    data = api.wait(video_id)
    assert data["status"] == "failed"
    assert (data["failure_code"], data["failure_message"]) == (FAILED_CREDIT_CODE, FAILED_CREDIT_MESSAGE)
    assert data["video_url"] is None and _balance(api) == 0.05
    status = api.get("/v3/videos/statuses", params={"video_ids": video_id}).json()["data"][0]
    assert status["status"] == "failed" and status["error"]["code"] == FAILED_CREDIT_CODE


def test_speech_for_a_starfish_voice(sandbox) -> None:
    api = Api(sandbox.url)
    r = api.post("/v3/voices/speech", json={"text": "Hello there from the sandbox", "voice_id": VOICE_EN,
                                            "speed": 2.0, "locale": "en-AU"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["duration"] == 1.0  # 5 words at 150 wpm = 2 s, speed 2
    assert [w["word"] for w in data["word_timestamps"]] == ["Hello", "there", "from", "the", "sandbox"]
    assert data["word_timestamps"][-1]["end"] <= data["duration"] + 0.01
    assert "tone" in r.headers["X-Sandbox-Audio"]
    audio = requests.get(data["audio_url"], timeout=10)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF"


def test_speech_rejects_non_starfish_voices(sandbox) -> None:
    api = Api(sandbox.url)
    other = next(v for v in sandbox.sandbox.catalog.voices if len(v["voice_id"]) == 20)
    r = api.post("/v3/voices/speech", json={"text": "Hello", "voice_id": other["voice_id"]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "voice_id"
