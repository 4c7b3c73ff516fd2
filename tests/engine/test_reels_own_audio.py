"""Reels whose scenes speak an own recording: validation, estimate, the v3 body, and a full render."""

from __future__ import annotations

import dataclasses
import time

import pytest

from core.catalog.store import load_catalog
from core.config import Settings
from core.db import session_scope
from core.heygen import schemas
from core.jobs import lifecycle
from core.jobs.worker import Worker
from core.models import Reel
from core.reels import own_media
from core.reels.body import build_studio_body
from core.reels.drafts import create_reel, duplicate_reel, get_reel, set_scenes
from core.reels.estimate import estimate_reel, estimate_script_seconds
from core.reels.validation import ReelValidationError, SceneInput, validate_reel
from tests.engine.test_jobs_lifecycle import AVATAR_ID, VOICE_ID
from tests.engine.test_jobs_worker import make_worker, run_until
from tests.people import ADMIN, person
from tests.sandbox.sandbox_support import jpeg_bytes, wav_bytes

ANA, BOB = person("ana"), person("bob")
SCRIPT = "Scene one says hello to everyone watching."


def own_audio_reel(session_factory, tmp_path, client, *, upload: bool = True, seconds: float = 4.2,
                   owner: str = "ana") -> tuple[int, int]:
    """A 3-scene draft whose scene 2 speaks a recording; returns (reel id, media id)."""
    with session_scope(session_factory) as s:
        row, _ = own_media.store_media(s, tmp_path, wav_bytes(seconds), "line.wav", purpose="scene_audio",
                                       actor=person(owner))
        if upload:
            own_media.upload_media(s, client, tmp_path, row, actor=person(owner))
        reel = create_reel(s, actor=person(owner), title="My own line")
        set_scenes(s, reel.id, [
            SceneInput(position=1, avatar_id=AVATAR_ID, voice_id=VOICE_ID, script=SCRIPT),
            SceneInput(position=2, avatar_id=AVATAR_ID, audio_asset_ref=row.id, script="(my line, as a note)"),
            SceneInput(position=3, avatar_id=AVATAR_ID, voice_id=VOICE_ID, script="And goodbye."),
        ], actor=person(owner))
        return reel.id, row.id


def test_body_carries_the_asset_and_validates(session_factory, catalog_index, sandbox_client, tmp_path):
    reel_id, media_id = own_audio_reel(session_factory, tmp_path, sandbox_client)
    with session_scope(session_factory) as s:
        reel = get_reel(s, reel_id)
        assert validate_reel(reel, catalog_index) == []
        body = build_studio_body(reel, catalog_index)
        asset_id = s.get(own_media.MediaAsset, media_id).asset_id
        estimate = estimate_reel(reel, catalog_index)
    scene = body["scenes"][1]["input"]
    assert scene == {"type": "avatar", "avatar_id": AVATAR_ID, "audio_asset_id": asset_id,
                     "engine": {"type": "avatar_iv"}}
    assert schemas.validate_request("POST", "/v3/videos", body) == []
    assert estimate.scene_durations[1] == pytest.approx(4.2, abs=0.01)
    assert estimate.duration_s == pytest.approx(4.2 + estimate_script_seconds(SCRIPT)
                                                + estimate_script_seconds("And goodbye."), abs=0.01)


def test_a_recording_that_did_not_reach_heygen_blocks_the_launch(session_factory, catalog_index, sandbox_client,
                                                                 tmp_path):
    reel_id, _ = own_audio_reel(session_factory, tmp_path, sandbox_client, upload=False)
    with session_scope(session_factory) as s:
        problems = validate_reel(get_reel(s, reel_id), catalog_index)
    assert [p.field for p in problems] == ["scenes[2].audio_asset_ref"]
    assert "Retry upload" in problems[0].message


def test_another_users_recording_cannot_be_used(session_factory, sandbox_client, tmp_path):
    _, media_id = own_audio_reel(session_factory, tmp_path, sandbox_client, owner="bob")
    with session_scope(session_factory) as s:
        reel = create_reel(s, actor=ANA, title="Not mine")
        with pytest.raises(ReelValidationError) as err:
            set_scenes(s, reel.id, [SceneInput(position=1, avatar_id=AVATAR_ID, audio_asset_ref=media_id),
                                    SceneInput(position=2), SceneInput(position=3)], actor=ANA)
    assert err.value.problems[0].field == "scenes[1].audio_asset_ref"


def test_deleting_the_recording_of_a_draft_asks_for_a_new_one(session_factory, catalog_index, sandbox_client,
                                                              tmp_path):
    reel_id, media_id = own_audio_reel(session_factory, tmp_path, sandbox_client)
    with session_scope(session_factory) as s:
        own_media.delete_media(s, sandbox_client, tmp_path, media_id, actor=ANA)
    with session_scope(session_factory) as s:
        reel = get_reel(s, reel_id)
        assert reel.scenes[1].audio_asset_ref is None
        assert [p.field for p in validate_reel(reel, catalog_index)] == ["scenes[2].voice_id"]


def test_own_audio_reel_renders_to_completed(session_factory, catalog_index, sandbox, sandbox_client, tmp_path):
    reel_id, _ = own_audio_reel(session_factory, tmp_path, sandbox_client, seconds=3.0)
    with session_factory() as s:
        assert lifecycle.launch(s, reel_id, actor=ANA, index=catalog_index).ok
    done = run_until(make_worker(session_factory, sandbox, catalog_index), session_factory, reel_id)
    assert done.status == "completed", done.failure_message
    with session_factory() as s:
        estimated = s.get(Reel, reel_id).estimated_duration_s
    assert done.duration_s >= 3.0 and done.duration_s == pytest.approx(estimated, abs=1.0)


def _trained(session, client, row) -> None:
    deadline = time.monotonic() + 10
    while row.training_status not in own_media.FINAL_TRAINING and time.monotonic() < deadline:
        own_media.refresh_training(session, client, row, actor=ANA)
        time.sleep(0.05)


def test_a_reel_with_my_recording_my_photo_avatar_and_my_voice_clone(session_factory, sandbox, sandbox_client,
                                                                     tmp_path):
    """Record a line, make a photo avatar and a voice clone, and get one reel that uses all three."""
    with session_scope(session_factory) as s:
        line, _ = own_media.store_media(s, tmp_path, wav_bytes(3.0), "my line.wav", purpose="scene_audio", actor=ANA)
        own_media.upload_media(s, sandbox_client, tmp_path, line, actor=ANA)
        photo, _ = own_media.store_media(s, tmp_path, jpeg_bytes(), "me.jpg", purpose="photo", actor=ANA)
        own_media.start_photo_avatar(s, sandbox_client, tmp_path, photo, "Ana", consent=True, actor=ANA)
        sample, _ = own_media.store_media(s, tmp_path, wav_bytes(12.0), "me.wav", purpose="voice_sample",
                                          actor=ANA)
        own_media.start_voice_clone(s, sandbox_client, tmp_path, sample, "Ana's voice", actor=ANA)
        _trained(s, sandbox_client, photo)
        _trained(s, sandbox_client, sample)
        assert (photo.training_status, sample.training_status) == ("completed", "complete")
        look_id, voice_id, line_id = photo.heygen_id, sample.heygen_id, line.id
    index = load_catalog(sandbox_client, refresh=True).index  # the private look and voice join the catalog
    assert index.look(look_id).avatar_type == "photo_avatar" and index.voice(voice_id).type == "private"
    with session_scope(session_factory) as s:
        reel = create_reel(s, actor=ANA, title="All mine")
        set_scenes(s, reel.id, [
            SceneInput(position=1, avatar_id=look_id, voice_id=voice_id, script="Hello, this is my cloned voice."),
            SceneInput(position=2, avatar_id=look_id, audio_asset_ref=line_id),
            SceneInput(position=3, avatar_id=AVATAR_ID, voice_id=voice_id, script="Goodbye."),
        ], actor=ANA)
        reel_id = reel.id
    with session_factory() as s:
        assert lifecycle.launch(s, reel_id, actor=ANA, index=index).ok
    worker = Worker(session_factory, sandbox_client, dataclasses.replace(Settings(), poll_interval_s=0.01),
                    name="w-own", index_provider=lambda: index)
    done = run_until(worker, session_factory, reel_id)
    assert done.status == "completed", done.failure_message
    assert done.duration_s >= 3.0


def test_a_copy_keeps_my_recording_for_me_but_not_for_someone_else(session_factory, sandbox_client, tmp_path):
    reel_id, media_id = own_audio_reel(session_factory, tmp_path, sandbox_client)
    with session_scope(session_factory) as s:
        mine = duplicate_reel(s, reel_id, actor=ANA)
        theirs = duplicate_reel(s, reel_id, actor=ADMIN)  # an admin may copy anyone's reel
        assert [sc.audio_asset_ref for sc in mine.scenes] == [None, media_id, None]
        assert [sc.audio_asset_ref for sc in theirs.scenes] == [None, None, None]
