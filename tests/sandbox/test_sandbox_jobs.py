"""Video jobs over loopback: lifecycle, real MP4 output, listing, statuses, delete, concurrency limit."""

from __future__ import annotations

import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import imageio_ffmpeg
import pytest
import requests

from core.sandbox.videos import speech_seconds
from tests.sandbox.sandbox_support import Api, scene, studio_body, three_scene_body


def _ffmpeg_duration(path) -> float:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True).stderr
    hours, minutes, seconds = out.split("Duration: ")[1].split(",")[0].split(":")
    assert "h264" in out
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_three_scene_reel_renders_a_real_mp4(sandbox, tmp_path) -> None:
    api = Api(sandbox.url)
    created = api.create(three_scene_body())
    assert created.status_code == 200
    video_id = created.json()["data"]["video_id"]
    assert len(video_id) == 32 and int(video_id, 16) >= 0
    seen = {api.get(f"/v3/videos/{video_id}").json()["data"]["status"]}
    data = api.wait(video_id)
    seen.add(data["status"])
    assert data["status"] == "completed" and seen <= {"pending", "processing", "completed"}
    expected = (speech_seconds("Hi! In the next minute I will show you what our app does.") + 4
                + speech_seconds("That's it. Try it free today.", 1.1))
    assert data["duration"] == pytest.approx(expected, abs=1.0)
    assert data["completed_at"] >= data["created_at"]
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(requests.get(data["video_url"], timeout=10).content)
    assert _ffmpeg_duration(mp4) == pytest.approx(expected, abs=1.0)
    thumb = requests.get(data["thumbnail_url"], timeout=10)
    assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
    srt = requests.get(data["subtitle_url"], timeout=10).text
    assert "00:00:00," in srt and "Try it free today" in srt
    assert data["captioned_video_url"] is None  # caption without style: sidecar only
    query = parse_qs(urlsplit(data["video_url"]).query)
    assert int(query["Expires"][0]) == pytest.approx(time.time() + 604800, abs=60)
    again = api.get(f"/v3/videos/{video_id}").json()["data"]
    assert "Signature" in again["video_url"]


def test_status_list_and_statuses_endpoint(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=1000).url)  # jobs stay pending
    ids = [api.create().json()["data"]["video_id"] for _ in range(3)]
    assert api.get(f"/v3/videos/{ids[0]}").json()["data"]["status"] == "pending"
    listed = api.get("/v3/videos", params={"limit": 2}).json()
    assert [v["id"] for v in listed["data"]] == [ids[2], ids[1]] and listed["has_more"]
    rest = api.get("/v3/videos", params={"limit": 2, "token": listed["next_token"]}).json()
    assert [v["id"] for v in rest["data"]] == [ids[0]] and rest["next_token"] is None
    unknown = "f" * 32
    items = api.get("/v3/videos/statuses", params={"video_ids": ",".join([ids[0], unknown])}).json()["data"]
    assert items == [{"video_id": ids[0], "status": "queued", "error": None},
                     {"video_id": unknown, "status": "not_found", "error": None}]


def test_other_keys_cannot_see_my_videos(sandbox_factory) -> None:
    server = sandbox_factory(api_keys=("alice", "bob"), time_scale=1000)
    alice, bob = Api(server.url, "alice"), Api(server.url, "bob")
    video_id = alice.create().json()["data"]["video_id"]
    assert bob.get(f"/v3/videos/{video_id}").status_code == 404
    assert bob.get("/v3/videos/statuses", params={"video_ids": video_id}).json()["data"][0]["status"] == "not_found"
    assert bob.get("/v3/videos").json()["data"] == []


def test_concurrency_limit_429_with_retry_after_and_delete_frees_a_slot(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=1000, concurrency_limit=3).url)
    ids = [api.create().json()["data"]["video_id"] for _ in range(3)]
    over = api.create()
    assert over.status_code == 429 and over.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(over.headers["Retry-After"]) >= 1
    deleted = api.delete(f"/v3/videos/{ids[0]}")
    assert deleted.json() == {"data": {"id": ids[0], "deleted": True}}
    assert api.get(f"/v3/videos/{ids[0]}").status_code == 404
    assert api.create().status_code == 200
    assert api.stats()["videos_by_status"]["pending"] == 3


def test_time_scale_orders_pending_processing_completed(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=0.2, render_media=False, queue_s=1.0).url)
    video_id = api.create(studio_body(scene("one two three four five six seven eight nine ten"))).json()["data"][
        "video_id"]
    assert api.get(f"/v3/videos/{video_id}").json()["data"]["status"] == "pending"
    assert api.wait(video_id, ("processing", "completed"))["status"] == "processing"
    done = api.wait(video_id)
    assert done["status"] == "completed" and done["duration"] == pytest.approx(4.0)
