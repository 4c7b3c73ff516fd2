"""Own audio in a real browser: upload a WAV for scene 2 of a draft, launch, and the finished MP4's audio
track is at least as long as the uploaded recording."""

from __future__ import annotations

import io
import subprocess
import time
import wave

import imageio_ffmpeg
import numpy as np
import requests
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import AppServer, open_page, snap, wait_for_app_run
from tests.e2e.reel_steps import launch_button, open_reel, seed_ready_reel

RECORDING_S = 6.4


def recording(tmp_path) -> tuple[str, bytes]:
    rate = 16_000
    t = np.arange(int(RECORDING_S * rate)) / rate
    samples = (np.sin(2 * np.pi * 200 * t) * np.sin(np.pi * t / RECORDING_S) * 12_000).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    path = tmp_path / "my line.wav"
    path.write_bytes(buf.getvalue())
    return str(path), buf.getvalue()


def audio_track_seconds(mp4: bytes, tmp_path) -> float:
    """Length of the MP4's audio stream, decoded to the end by ffmpeg (seconds)."""
    path = tmp_path / "reel.mp4"
    path.write_bytes(mp4)
    err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:a:0",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    hours, minutes, seconds = err.rsplit("time=", 1)[1].split()[0].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def reel_row(server: AppServer, reel_id: int) -> dict:
    engine = create_engine(f"sqlite:///{server.data_dir / 'reels.db'}")
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT status, video_url, failure_message FROM reels WHERE id = :r"),
                                     {"r": reel_id}).mappings().one())
    finally:
        engine.dispose()


def test_uploaded_wav_for_scene_2_is_heard_in_the_finished_video(page: Page, app_server: AppServer,
                                                                  tmp_path) -> None:
    open_page(page, app_server, "/Compose")  # first run: database, sandbox, worker
    reel_id = seed_ready_reel(app_server, "E2E own audio")
    open_reel(page, app_server, reel_id)
    scene = page.get_by_test_id("stExpander").filter(has_text="Scene 2 ")
    scene.get_by_text("Own audio", exact=True).click()
    wait_for_app_run(page)
    file_path, _ = recording(tmp_path)
    page.locator(f".st-key-c_r{reel_id}_s2_upl input[type=file]").set_input_files(file_path)
    expect(scene.get_by_text("At HeyGen")).to_be_visible(timeout=60_000)
    expect(scene.get_by_test_id("stAudio")).to_have_count(1)  # the listen-back player
    snap(page, "own-audio-01-scene-2", focus=scene)

    expect(launch_button(page, reel_id)).to_be_enabled()
    launch_button(page, reel_id).click()
    wait_for_app_run(page)
    deadline = time.monotonic() + 120
    row = reel_row(app_server, reel_id)
    while row["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(1)
        row = reel_row(app_server, reel_id)
    assert row["status"] == "completed", row["failure_message"]
    mp4 = requests.get(row["video_url"], timeout=30).content
    assert audio_track_seconds(mp4, tmp_path) >= RECORDING_S
    snap(page, "own-audio-02-launched")
