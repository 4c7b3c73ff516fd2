"""Shared code of the sandbox tests: an authenticated HTTP client, request bodies, polling, and small
real media files (WAV tones, JPEG photos) for own-media tests."""

from __future__ import annotations

import io
import time
import wave
from typing import Any

import numpy as np
import requests
from PIL import Image

from core.config import SANDBOX_API_KEY

VOICE_EN = "cef3bc4e0a84424cafcde6f2cf466c97"  # Ivy: English, starfish, support_locale
LOOK = "Abigail_expressive_2024112501"
LOOK_2 = "Abigail_standing_office_front"


class Api:
    """``requests`` against one sandbox with the API key preset; ``get/post/...`` take a path."""

    def __init__(self, url: str, key: str | None = SANDBOX_API_KEY) -> None:
        self.url = url
        self.http = requests.Session()
        if key:
            self.http.headers["X-Api-Key"] = key

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.http.request(method, self.url + path, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def create(self, body: dict | None = None, key: str | None = None) -> requests.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.post("/v3/videos", json=body or studio_body(), headers=headers)

    def wait(self, video_id: str, statuses: tuple[str, ...] = ("completed", "failed"), timeout_s: float = 20.0
             ) -> dict[str, Any]:
        """Poll ``GET /v3/videos/{id}`` until its status is one of ``statuses``; returns ``data``."""
        deadline = time.monotonic() + timeout_s
        while True:
            data = self.get(f"/v3/videos/{video_id}").json()["data"]
            if data["status"] in statuses or time.monotonic() > deadline:
                return data
            time.sleep(0.05)

    def stats(self) -> dict[str, Any]:
        return requests.get(self.url + "/_sandbox/stats", timeout=10).json()


def scene(script: str = "Hello there, this is a short scene.", **input_extra: Any) -> dict[str, Any]:
    """One ``avatar_video`` studio scene."""
    return {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": LOOK, "script": script,
                                              "voice_id": VOICE_EN, **input_extra}}


def studio_body(*scenes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A valid studio body (one default scene unless given)."""
    return {"type": "studio", "title": "Test reel", "scenes": list(scenes) or [scene()], **extra}


def three_scene_body() -> dict[str, Any]:
    """The docs' 3-scene example (§4.4): 12 + 4 s image + 6 words at speed 1.1 ≈ 11 s."""
    return studio_body(
        scene("Hi! In the next minute I will show you what our app does.",
              voice_settings={"speed": 1.0, "pitch": 0, "volume": 1.0, "locale": "en-GB"},
              background={"type": "color", "color": "#F4F1EA"}, engine={"type": "avatar_iv"}),
        {"type": "image", "source": {"type": "url", "url": "https://example.com/slide.png"}, "duration": 4},
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": LOOK_2, "script": "That's it. Try it free today.",
                                           "voice_id": VOICE_EN, "voice_settings": {"speed": 1.1, "locale": "en-GB"}}},
        resolution="1080p", aspect_ratio="9:16", caption={"file_format": "srt"}, callback_id="job-42",
    )


def wav_bytes(seconds: float, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV of a 330 Hz tone lasting ``seconds``."""
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 330 * t) * 9000).astype("<i2").tobytes())
    return buf.getvalue()


def jpeg_bytes(width: int = 400, height: int = 500) -> bytes:
    """A plain JPEG photo of ``width`` × ``height`` px."""
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (180, 120, 90)).save(buf, format="JPEG")
    return buf.getvalue()


def upload(api: Api, data: bytes, name: str = "line.wav", key: str | None = None) -> requests.Response:
    """``POST /v3/assets`` with ``data`` as the multipart field ``file`` (and an Idempotency-Key)."""
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v3/assets", files={"file": (name, data, "application/octet-stream")}, headers=headers)


def poll(api: Api, path: str, done, timeout_s: float = 10.0) -> dict:
    """GET ``path`` until ``done(data)`` (or the timeout); returns the last ``data``."""
    deadline = time.monotonic() + timeout_s
    while True:
        data = api.get(path).json()["data"]
        if done(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.05)
