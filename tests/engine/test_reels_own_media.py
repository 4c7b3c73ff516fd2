"""Own media on SQLite and PostgreSQL against the sandbox: keep, upload (surviving failures), delete,
photo avatars and voice clones through their training states."""

from __future__ import annotations

import time

import pytest
import requests
from sqlalchemy import select

import core.heygen.media_calls as media_calls
from core.models import MediaAsset, Reel, Scene
from core.reels import own_media
from core.reels.media_checks import MediaRejected
from tests.people import person
from tests.sandbox.sandbox_support import jpeg_bytes, wav_bytes

LOOK = "Abigail_expressive_2024112501"
ANA, BOB = person("ana"), person("bob")


@pytest.fixture(autouse=True)
def no_upload_backoff(monkeypatch):
    """Re-sent uploads go at once (the back-off itself is covered by the unit tests)."""
    monkeypatch.setattr(media_calls, "_sleep", lambda _seconds: None)


def wait_training(session, client, row, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while row.training_status not in own_media.FINAL_TRAINING and row.training_status != "pending_consent":
        own_media.refresh_training(session, client, row, actor=ANA)
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def assets_at_sandbox(server) -> int:
    return len(requests.get(f"{server.url}/v3/assets?username=sandbox", timeout=10,
                            headers={"X-Api-Key": server.config.api_keys[0]}).json()["data"])


def test_store_then_upload_and_store_again_reuses_the_row(session_factory, sandbox, sandbox_client, tmp_path):
    data = wav_bytes(2.5)
    with session_factory() as session:
        row, warnings = own_media.store_media(session, tmp_path, data, "../ünï.wav", purpose="scene_audio",
                                              actor=ANA)
        assert (row.upload_status, row.name, warnings) == ("pending", "ünï.wav", ())
        assert own_media.local_file(row, tmp_path).read_bytes() == data
        own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA)
        session.commit()
        again, _ = own_media.store_media(session, tmp_path, data, "copy.wav", purpose="scene_audio", actor=ANA)
        assert again.id == row.id and again.asset_id == row.asset_id and again.upload_status == "uploaded"
        assert row.duration_s == pytest.approx(2.5, abs=0.01)
    assert assets_at_sandbox(sandbox) == 1


def test_rejected_files_store_nothing(session_factory, tmp_path):
    with session_factory() as session:
        for data, name in ((b"", "empty.wav"), (jpeg_bytes(), "photo.wav"), (wav_bytes(1.0), "tiny.jpg")):
            purpose = "photo" if name.endswith(".jpg") else "scene_audio"
            with pytest.raises(MediaRejected):
                own_media.store_media(session, tmp_path, data, name, purpose=purpose, actor=ANA)
        assert session.scalars(select(MediaAsset)).all() == []
    assert not (tmp_path / "media").exists()


def test_a_5xx_mid_upload_keeps_the_row_and_the_retry_makes_one_asset(session_factory, sandbox, sandbox_client,
                                                                      tmp_path):
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "POST /v3/assets:500=1x"}, timeout=10)
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        no_retry = type(sandbox_client)(sandbox.config.api_keys[0], sandbox.url, max_retries=0)
        with pytest.raises(own_media.MediaError) as err:
            own_media.upload_media(session, no_retry, tmp_path, row, actor=ANA)
        assert "draft is kept" in str(err.value) and "Retry upload" in str(err.value)
        session.commit()
        assert (row.upload_status, row.asset_id) == ("failed", None) and row.upload_error
        own_media.upload_media(session, no_retry, tmp_path, row, actor=ANA)
        assert row.upload_status == "uploaded" and row.upload_error is None
    assert assets_at_sandbox(sandbox) == 1


def test_a_dropped_connection_then_a_retry_sends_the_same_key(session_factory, sandbox, sandbox_client, tmp_path):
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        first = own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA).asset_id
        row.upload_status, row.asset_id = "failed", None  # as if the answer had been lost on the way back
        assert own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA).asset_id == first
    assert assets_at_sandbox(sandbox) == 1


def _reel_using(session, row, status: str) -> Reel:
    reel = Reel(title="Uses my line", owner="ana", status=status)
    reel.scenes = [Scene(position=1, avatar_id=LOOK, audio_asset_ref=row.id)]
    session.add(reel)
    session.flush()
    return reel


def test_delete_is_refused_while_a_reel_renders_and_clears_drafts(session_factory, sandbox, sandbox_client,
                                                                  tmp_path):
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA)
        busy = _reel_using(session, row, "processing")
        draft = _reel_using(session, row, "draft")
        used = own_media.usage(session, [row.id])[row.id]
        assert [(u.reel_id, u.scene_number) for u in used] == [(busy.id, 1), (draft.id, 1)]
        with pytest.raises(own_media.MediaError) as err:
            own_media.delete_media(session, sandbox_client, tmp_path, row.id, actor=ANA)
        assert "processing" in str(err.value)
        with pytest.raises(own_media.MediaError):
            own_media.delete_media(session, sandbox_client, tmp_path, row.id, actor=BOB)
        busy.status = "completed"
        own_media.delete_media(session, sandbox_client, tmp_path, row.id, actor=ANA)
        session.commit()
        assert session.get(Scene, draft.scenes[0].id).audio_asset_ref is None
    assert assets_at_sandbox(sandbox) == 0 and not any((tmp_path / "media").iterdir())


def test_photo_avatar_trains_to_completed(session_factory, sandbox_client, tmp_path):
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, jpeg_bytes(400, 500), "me.jpg", purpose="photo",
                                       actor=ANA)
        with pytest.raises(own_media.MediaError):
            own_media.start_photo_avatar(session, sandbox_client, tmp_path, row, "Me", consent=False, actor=ANA)
        own_media.start_photo_avatar(session, sandbox_client, tmp_path, row, "  Ana   at work ", consent=True, actor=ANA)
        assert (row.label, row.training_status) == ("Ana at work", "processing")
        assert own_media.in_training(session, owner="ana") == [row]
        wait_training(session, sandbox_client, row)
        assert row.training_status == "completed" and row.training_error is None
        look = sandbox_client.get_avatar_look(row.heygen_id)
        assert look.avatar_type == "photo_avatar" and look.status == "completed"


def test_photo_avatar_failure_keeps_heygens_reason(session_factory, sandbox, sandbox_client, tmp_path):
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"avatar_fail_next": 1}, timeout=10)
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, jpeg_bytes(), "me.jpg", purpose="photo", actor=ANA)
        own_media.start_photo_avatar(session, sandbox_client, tmp_path, row, "Me", consent=True, actor=ANA)
        wait_training(session, sandbox_client, row)
        assert row.training_status == "failed" and "No face was detected" in row.training_error


def test_consent_page_is_requested_when_heygen_waits_for_it(session_factory, sandbox_factory, tmp_path):
    from core.heygen import HeyGenClient

    server = sandbox_factory(photo_avatar_consent=True)
    client = HeyGenClient(server.config.api_keys[0], server.url)
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, jpeg_bytes(), "me.jpg", purpose="photo", actor=ANA)
        own_media.start_photo_avatar(session, client, tmp_path, row, "Me", consent=True, actor=ANA)
        wait_training(session, client, row)
        assert row.training_status == "pending_consent" and row.consent_url.startswith(server.url)
        requests.post(row.consent_url, timeout=10)
        own_media.refresh_training(session, client, row, actor=ANA)
        assert row.training_status == "completed"


def test_voice_clone_completes_into_a_private_voice(session_factory, sandbox_client, tmp_path):
    with session_factory() as session:
        row, warnings = own_media.store_media(session, tmp_path, wav_bytes(12.0), "me.wav", purpose="voice_sample",
                                              actor=ANA)
        assert any("30 s to 3 min" in w for w in warnings)
        own_media.start_voice_clone(session, sandbox_client, tmp_path, row, "Ana's voice", actor=ANA)
        wait_training(session, sandbox_client, row)
        assert row.training_status == "complete"
        private = sandbox_client.list_voices(type="private", refresh=True)
        assert private[0].voice_id == row.heygen_id and private[0].name == "Ana's voice"
        with pytest.raises(own_media.MediaError):
            own_media.start_voice_clone(session, sandbox_client, tmp_path, row, "Again", actor=ANA)


def test_a_connection_dropped_mid_upload_is_resent_once(session_factory, sandbox, sandbox_client, tmp_path):
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"spec": "POST /v3/assets:drop=1x"}, timeout=10)
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(4.0), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA)
        assert row.upload_status == "uploaded"
    stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
    assert stats["requests"]["POST /v3/assets"] == 2 and assets_at_sandbox(sandbox) == 1


def test_a_missing_kept_copy_fails_the_upload_instead_of_waiting_forever(session_factory, sandbox_client, tmp_path):
    with session_factory() as session:
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        own_media.local_file(row, tmp_path).unlink()
        with pytest.raises(own_media.MediaError, match="add the file again"):
            own_media.upload_media(session, sandbox_client, tmp_path, row, actor=ANA)
        assert row.upload_status == "failed" and row.upload_error


def test_viewers_cannot_add_media_and_others_cannot_touch_mine(session_factory, sandbox_client, tmp_path):
    from core.access.permissions import PermissionDenied

    with session_factory() as session:
        with pytest.raises(PermissionDenied):
            own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                  actor=person("vic", "viewer"))
        row, _ = own_media.store_media(session, tmp_path, wav_bytes(1.5), "line.wav", purpose="scene_audio",
                                       actor=ANA)
        with pytest.raises(PermissionDenied):
            own_media.upload_media(session, sandbox_client, tmp_path, row, actor=BOB)
        assert row.upload_status == "pending"
