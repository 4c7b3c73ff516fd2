"""Own media in the pages, against the real sandbox: a scene's own recording in Compose, "My media",
"Create from a photo" on Avatars and "Clone a voice" on Voices."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from core.board import text as board_text
from core.db import session_scope
from core.models import MediaAsset, Reel
from core.reels import drafts, validation
from core.reels import estimate as estimates
from core.runtime import Runtime
from tests.people import signed_in
from tests.sandbox.sandbox_support import jpeg_bytes, wav_bytes
from ui.text import plain

COMPOSE, AVATARS, VOICES = "pages/3_Compose.py", "pages/2_Avatars.py", "pages/1_Voices.py"
LOOK, VOICE = "Abigail_expressive_2024112501", "cef3bc4e0a84424cafcde6f2cf466c97"


def _draft(runtime: Runtime, owner: str) -> int:
    scenes = [validation.SceneInput(position=n, avatar_id=LOOK, voice_id=VOICE, script=f"Scene {n} says hello.")
              for n in (1, 2, 3)]
    with session_scope(runtime.session_factory) as s:
        return drafts.create_reel(s, actor=signed_in(s, owner), title=f"{owner}'s reel", scenes=scenes).id


def _reel(runtime: Runtime, rid: int) -> Reel:
    with session_scope(runtime.session_factory) as s:
        reel = s.get(Reel, rid)
        reel.scenes  # noqa: B018
        return reel


def _own_audio(at, rid: int, n: int):
    at.segmented_control(key=f"c_r{rid}_s{n}_vmode").set_value("audio").run()
    assert not at.exception
    return at


def _texts(at) -> str:
    return " ".join([*(e.value for e in at.error), *(w.value for w in at.warning), *(t.value for t in at.text),
                     *(c.value for c in at.caption)])


def test_scene_speaks_an_uploaded_recording(open_page, app_runtime: Runtime) -> None:
    rid = _draft(app_runtime, "Ana")
    at = _own_audio(open_page(COMPOSE, user="Ana", query={"c_reel": str(rid)}), rid, 2)
    at.file_uploader(key=f"c_r{rid}_s2_upl").upload("my line.wav", wav_bytes(5.5), "audio/wav").run()
    assert not at.exception
    reel = _reel(app_runtime, rid)
    scene = reel.scenes[1]
    assert scene.audio_asset_ref is not None and scene.audio_asset.upload_status == "uploaded"
    assert scene.audio_asset.duration_s == pytest.approx(5.5, abs=0.01)
    assert at.get("audio") and "my line.wav" in _texts(at)  # listen back, and the file's name as text
    estimate = estimates.estimate_reel(reel, app_runtime.catalog.get().index)
    assert estimate.scene_durations[1] == pytest.approx(5.5, abs=0.01)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Estimated length"] == board_text.format_seconds(estimate.duration_s)
    assert metrics["Estimated cost"] == f"${estimate.cost_usd:,.2f}"
    assert at.text_area(key=f"c_r{rid}_s2_script").label.startswith("Caption or note")
    assert validation.validate_reel(reel, app_runtime.catalog.get().index) == []


def test_recording_in_the_browser_is_kept_as_the_scene_audio(open_page, app_runtime: Runtime) -> None:
    rid = _draft(app_runtime, "Rec")
    at = _own_audio(open_page(COMPOSE, user="Rec", query={"c_reel": str(rid)}), rid, 1)
    at.audio_input(key=f"c_r{rid}_s1_rec").upload("audio.wav", wav_bytes(2.0)).run()
    assert not at.exception
    assert _reel(app_runtime, rid).scenes[0].audio_asset.duration_s == pytest.approx(2.0, abs=0.01)


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"\0" * (33 * 1024 * 1024), "big.wav", "at most 32 MB"),
    (jpeg_bytes(), "photo.wav", "is a JPEG image"),
    (b"", "empty.wav", "is empty"),
    (wav_bytes(0.3), "short.wav", "at least 1 s"),
], ids=["33-MB", "jpeg-named-wav", "zero-length", "too-short"])
def test_bad_recordings_say_why_and_store_nothing(open_page, app_runtime: Runtime, data, name, words) -> None:
    owner = "Bad" + name.split(".")[0].capitalize()
    rid = _draft(app_runtime, owner)
    at = _own_audio(open_page(COMPOSE, user=owner, query={"c_reel": str(rid)}), rid, 1)
    at.file_uploader(key=f"c_r{rid}_s1_upl").upload(name, data, "audio/wav").run()
    assert not at.exception
    assert any(words in e.value for e in at.error)
    with session_scope(app_runtime.session_factory) as s:
        assert s.scalars(select(MediaAsset).where(MediaAsset.owner == owner)).all() == []
    assert _reel(app_runtime, rid).scenes[0].audio_asset_ref is None


def test_silent_recording_is_kept_with_a_warning(open_page, app_runtime: Runtime) -> None:
    rid = _draft(app_runtime, "Quiet")
    at = _own_audio(open_page(COMPOSE, user="Quiet", query={"c_reel": str(rid)}), rid, 1)
    silent = wav_bytes(2.0)[:44] + b"\0" * (len(wav_bytes(2.0)) - 44)
    at.file_uploader(key=f"c_r{rid}_s1_upl").upload("quiet.wav", silent, "audio/wav").run()
    assert any("sounds silent" in w.value for w in at.warning)
    assert _reel(app_runtime, rid).scenes[0].audio_asset_ref is not None


def test_failed_upload_keeps_the_draft_and_retry_makes_one_asset(open_page, app_runtime: Runtime) -> None:
    import requests

    sandbox = app_runtime.sandbox.url
    rid = _draft(app_runtime, "Flaky")
    requests.post(f"{sandbox}/_sandbox/faults", json={"spec": "POST /v3/assets:500=3x"}, timeout=10)
    try:
        at = _own_audio(open_page(COMPOSE, user="Flaky", query={"c_reel": str(rid)}), rid, 3)
        at.file_uploader(key=f"c_r{rid}_s3_upl").upload("line.wav", wav_bytes(3.0), "audio/wav").run()
        assert not at.exception
        assert any("did not reach HeyGen" in e.value and "draft is kept" in e.value for e in at.error)
        scene = _reel(app_runtime, rid).scenes[2]
        assert scene.audio_asset.upload_status == "failed"
        problems = validation.validate_reel(_reel(app_runtime, rid), app_runtime.catalog.get().index)
        assert [p.field for p in problems] == ["scenes[3].audio_asset_ref"]
    finally:
        requests.post(f"{sandbox}/_sandbox/faults", json={"spec": ""}, timeout=10)
    retry = next(b for b in at.button if b.label == "Retry upload")
    retry.click().run()
    assert not at.exception
    assert _reel(app_runtime, rid).scenes[2].audio_asset.upload_status == "uploaded"


def test_my_media_lists_and_refuses_to_delete_what_a_rendering_reel_uses(open_page, app_runtime: Runtime) -> None:
    rid = _draft(app_runtime, "Mia")
    at = _own_audio(open_page(COMPOSE, user="Mia", query={"c_reel": str(rid)}), rid, 1)
    at.file_uploader(key=f"c_r{rid}_s1_upl").upload("mia.wav", wav_bytes(2.0), "audio/wav").run()
    with session_scope(app_runtime.session_factory) as s:
        s.get(Reel, rid).status = "processing"
    at.run()
    table = next(df for df in at.dataframe if "Used in" in df.value.columns).value
    assert list(table["File"]) == ["mia.wav"] and "processing" in table["Used in"][0]
    at.button(key="m_delete").click().run()
    assert any("which is processing" in e.value for e in at.error)
    with session_scope(app_runtime.session_factory) as s:
        s.get(Reel, rid).status = "completed"
    at.run()
    at.button(key="m_delete").click().run()
    assert not at.exception and any("Deleted" in m.value for m in at.success)
    with session_scope(app_runtime.session_factory) as s:
        assert s.scalars(select(MediaAsset).where(MediaAsset.owner == "Mia")).all() == []


def _until(at, done, runs: int = 60):
    for _ in range(runs):
        at.run()
        if done(at):
            return at
        time.sleep(0.1)
    return at


def test_create_a_photo_avatar_and_watch_it_train(open_page, app_runtime: Runtime) -> None:
    at = open_page(AVATARS, user="Pia")
    at.file_uploader(key="m_av_file_0").upload("pia.jpg", jpeg_bytes(400, 500), "image/jpeg").run()
    at.text_input(key="m_av_name_0").set_value("Pia at work").run()
    at.button(key="m_av_create").click().run()
    assert any("Confirm that the person" in e.value for e in at.error)  # consent first
    at.file_uploader(key="m_av_file_0").upload("pia.jpg", jpeg_bytes(400, 500), "image/jpeg").run()
    at.text_input(key="m_av_name_0").set_value("Pia at work").run()
    at.checkbox(key="m_av_consent_0").check().run()
    at.button(key="m_av_create").click().run()
    assert not at.exception and any("Training started" in s.value for s in at.success)
    assert at.text_input(key="m_av_name_1").value == "" and at.file_uploader(key="m_av_file_1").value is None
    _until(at, lambda a: any("Ready" in m.value for m in a.markdown))
    assert any("Ready" in m.value for m in at.markdown) and "Pia at work" in _texts(at)
    with session_scope(app_runtime.session_factory) as s:
        row = s.scalars(select(MediaAsset).where(MediaAsset.owner == "Pia")).one()
    look = app_runtime.catalog.get().index.look(row.heygen_id)
    assert look is not None and look.avatar_type == "photo_avatar"  # a private look, usable in scenes


def test_a_tiny_or_corrupt_photo_is_refused(open_page, app_runtime: Runtime) -> None:
    for data, words in ((jpeg_bytes(10, 10), "10 × 10 px"), (jpeg_bytes()[:500], "damaged or incomplete")):
        at = open_page(AVATARS, user="Tiny")
        at.file_uploader(key="m_av_file_0").upload("me.jpg", data, "image/jpeg").run()
        at.text_input(key="m_av_name_0").set_value("Me").run()
        at.checkbox(key="m_av_consent_0").check().run()
        at.button(key="m_av_create").click().run()
        assert any(words in e.value for e in at.error)
    with session_scope(app_runtime.session_factory) as s:
        assert s.scalars(select(MediaAsset).where(MediaAsset.owner == "Tiny")).all() == []


def test_photo_avatar_failure_shows_heygens_reason(open_page, app_runtime: Runtime) -> None:
    import requests

    requests.post(f"{app_runtime.sandbox.url}/_sandbox/faults", json={"avatar_fail_next": 1}, timeout=10)
    at = open_page(AVATARS, user="Fay")
    at.file_uploader(key="m_av_file_0").upload("fay.jpg", jpeg_bytes(), "image/jpeg").run()
    at.text_input(key="m_av_name_0").set_value("Fay").run()
    at.checkbox(key="m_av_consent_0").check().run()
    at.button(key="m_av_create").click().run()
    _until(at, lambda a: any("Failed" in m.value for m in a.markdown))
    assert "No face was detected" in _texts(at)


def test_clone_a_voice_and_find_it_in_the_catalog(open_page, app_runtime: Runtime) -> None:
    at = open_page(VOICES, user="Cleo")
    assert any("Recommended: 30 s to 3 min" in c.value for c in at.caption)
    at.audio_input(key="m_vc_rec_0").upload("audio.wav", wav_bytes(35.0, rate=8000)).run()
    at.text_input(key="m_vc_name_0").set_value("Cleo (warm)").run()
    at.button(key="m_vc_create").click().run()
    assert not at.exception and any("Cloning started" in s.value for s in at.success)
    _until(at, lambda a: any("Ready" in m.value for m in a.markdown))
    with session_scope(app_runtime.session_factory) as s:
        row = s.scalars(select(MediaAsset).where(MediaAsset.owner == "Cleo")).one()
    voice = app_runtime.catalog.get().index.voice(row.heygen_id)
    assert voice is not None and voice.type == "private" and voice.name == "Cleo (warm)"
    assert voice.preview_audio_url


def test_file_names_are_shown_as_text_never_as_markdown(open_page, app_runtime: Runtime) -> None:
    rid = _draft(app_runtime, "Mark")
    at = _own_audio(open_page(COMPOSE, user="Mark", query={"c_reel": str(rid)}), rid, 1)
    at.file_uploader(key=f"c_r{rid}_s1_upl").upload("[click](javascript:x) ünï.wav", jpeg_bytes(), "audio/wav").run()
    [error] = [e.value for e in at.error]
    assert error.startswith(plain("'[click](javascript:x) ünï.wav'"))  # escaped: drawn literally, not a link
