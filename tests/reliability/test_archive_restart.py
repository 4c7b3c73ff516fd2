"""A whole app process, stopped and started again on the same data folder: the archived video still plays
after HeyGen's links have expired (sandbox ``expire_urls``), from the archive the first process wrote."""

from __future__ import annotations

import dataclasses
import hashlib
import time

import requests
from sqlalchemy import update

from core.board.videos import media, video_details
from core.config import Settings
from core.jobs.archive import archive_of
from core.jobs.lifecycle import launch
from core.models import Reel
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from core.runtime import build_runtime
from tests.people import signed_in


def _settings(tmp_path) -> Settings:
    return dataclasses.replace(Settings(), data_dir=tmp_path / "data", sandbox_port=0, sandbox_time_scale=0.01,
                               poll_interval_s=0.1, worker_mode="embedded")


def _until(check, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _archived(runtime, reel_id: int):
    with runtime.session_factory() as session:
        view = archive_of(session, reel_id)
    return view if view.state == "archived" else None


def test_an_archived_video_plays_after_its_links_expire_and_after_a_restart(tmp_path) -> None:
    first = build_runtime(_settings(tmp_path), start_worker=True)
    try:
        catalog = first.catalog.get()
        look = next(lk for lk in catalog.looks
                    if not lk.supported_api_engines or "avatar_iv" in lk.supported_api_engines)
        scenes = [SceneInput(position=n, avatar_id=look.id, voice_id=catalog.voices[0].voice_id,
                             script=f"Scene {n}: still here next week.") for n in (1, 2, 3)]
        with first.session_factory() as session:
            ana = signed_in(session, "Ana")
            reel = create_reel(session, actor=ana, title="Kept", scenes=scenes)
            session.commit()
            assert launch(session, reel.id, actor=ana, index=catalog.index).ok
        kept = _until(lambda: _archived(first, reel.id))
        with first.session_factory() as session:
            video_id = session.get(Reel, reel.id).video_id
        source = first.sandbox.sandbox.files_dir / video_id / "video.mp4"
        expected = hashlib.sha256(source.read_bytes()).hexdigest()
    finally:
        first.stop()

    again = build_runtime(_settings(tmp_path), start_worker=False)  # a new process on the same data folder
    try:
        requests.post(f"{again.sandbox.url}/_sandbox/faults", json={"expire_urls": True}, timeout=10)
        with again.session_factory() as session:
            fresh = again.client.get_video(video_id)  # what HeyGen hands out now: dead links
            assert requests.get(fresh.video_url, timeout=10).status_code == 403
            session.execute(update(Reel).where(Reel.id == reel.id).values(video_url=fresh.video_url))
            session.commit()
            d = video_details(session, reel.id)
        played = media(again.archive, d, "video")
        assert played.source == "archive" and kept.files["video"].sha256 == expected
        assert hashlib.sha256(played.path.read_bytes()).hexdigest() == expected
    finally:
        again.stop()


def test_the_backfill_command_runs_against_the_sandbox_and_exits(tmp_path, sandbox) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEYGEN_", "WEBHOOK_", "LOG_", "ARCHIVE_")) and k != "DATABASE_URL"}
    env["DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run([sys.executable, "-m", "core.jobs", "archive-backfill", "--base-url", sandbox.url],
                            cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("0 archived, 0 failed.")
    assert "Archiving" in result.stderr  # the progress bar
