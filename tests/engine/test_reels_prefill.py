"""core.compose on SQLite and PostgreSQL: drafts list, "use in a reel" prefill, measured speech, costs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.catalog import tables
from core.catalog.tables import voices_frame
from core.models import Reel, ReelEvent, Scene, SpeechSample, utcnow
from core.reels import drafts, speech, validation
from core.reels import estimate as estimates
from core.reels.speech import speech_cache_key
from tests.people import person

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"  # Ivy, English, Starfish
OTHER_VOICE = "b99b17cac41f4376bd291820c4854711"


def _create(session_factory, owner: str, title: str = "", **kw) -> int:
    with session_factory() as s:
        rid = drafts.create_reel(s, actor=person(owner), title=title, **kw).id
        s.commit()
        return rid


def test_list_drafts_is_the_owners_drafts_newest_first_with_scene_counts(session_factory) -> None:
    old = _create(session_factory, "ana", "Old one")
    new = _create(session_factory, "ana", "New one", mode="studio")
    _create(session_factory, "bo", "Not mine")
    launched = _create(session_factory, "ana", "Launched")
    with session_factory() as s:
        s.get(Reel, launched).status = "queued"
        s.get(Reel, old).updated_at = utcnow() - timedelta(hours=1)
        s.commit()
        rows = drafts.list_drafts(s, person("ana").user_id)
        assert [(r.id, r.title, r.scenes) for r in rows] == [(new, "New one", 1), (old, "Old one", 3)]
        assert [r.id for r in drafts.list_drafts(s, person("ana").user_id, query="OLD")] == [old]
        assert drafts.list_drafts(s, person("ana").user_id, limit=1)[0].id == new


def test_prefill_fills_the_first_scene_without_a_voice(session_factory) -> None:
    scenes = [validation.SceneInput(1, voice_id=OTHER_VOICE, locale=None), validation.SceneInput(2), validation.SceneInput(3)]
    rid = _create(session_factory, "ana", scenes=scenes)
    with session_factory() as s:
        done = drafts.prefill(s, actor=person("ana"), reel_id=rid, voice_id=VOICE_ID)
        s.commit()
        assert done == drafts.Prefill(rid, 2, False)
        reel = drafts.get_reel(s, rid)
        assert [sc.voice_id for sc in reel.scenes] == [OTHER_VOICE, VOICE_ID, None]
        assert "scene 2: voice_id" in reel_events(s, rid)[-1]


def test_prefill_with_look_and_voice_needs_a_scene_missing_both(session_factory) -> None:
    scenes = [validation.SceneInput(1, avatar_id=AVATAR_ID), validation.SceneInput(2, voice_id=VOICE_ID),
              validation.SceneInput(3)]
    rid = _create(session_factory, "ana", scenes=scenes)
    with session_factory() as s:
        assert drafts.prefill(s, actor=person("ana"), reel_id=rid, voice_id=VOICE_ID, avatar_id=AVATAR_ID).scene == 3


def test_prefill_starts_a_new_draft_when_the_open_reel_is_full_or_launched(session_factory) -> None:
    full = _create(session_factory, "ana", scenes=[validation.SceneInput(n, voice_id=VOICE_ID) for n in (1, 2, 3)])
    with session_factory() as s:
        done = drafts.prefill(s, actor=person("bo"), reel_id=full, voice_id=OTHER_VOICE)
        s.commit()
        assert done.created and done.scene == 1 and done.reel_id != full
        new = drafts.get_reel(s, done.reel_id)
        assert (new.owner, new.status, [sc.voice_id for sc in new.scenes]) == ("bo", "draft", [OTHER_VOICE, None, None])
        s.get(Reel, done.reel_id).status = "queued"
        s.commit()
        assert drafts.prefill(s, actor=person("bo"), reel_id=done.reel_id, avatar_id=AVATAR_ID).created
        with pytest.raises(ValueError):
            drafts.prefill(s, actor=person("bo"), reel_id=None)


def test_prefill_without_an_open_reel_fills_the_owners_latest_draft(session_factory) -> None:
    """A reload or a new tab forgets the open reel: "Use in a reel" still fills the draft being worked on."""
    older = _create(session_factory, "cy")
    latest = _create(session_factory, "cy", scenes=[validation.SceneInput(1, voice_id=VOICE_ID),
                                                    validation.SceneInput(2), validation.SceneInput(3)])
    _create(session_factory, "dee")  # someone else's newer draft is never filled
    with session_factory() as s:
        done = drafts.prefill(s, actor=person("cy"), reel_id=None, voice_id=OTHER_VOICE, locale="es-MX")
        s.commit()
        assert done == drafts.Prefill(latest, 2, False)
        scene = sorted(drafts.get_reel(s, latest).scenes, key=lambda sc: sc.position)[1]
        assert (scene.voice_id, scene.locale) == (OTHER_VOICE, "es-MX")
        assert all(sc.voice_id is None for sc in drafts.get_reel(s, older).scenes)
        again = drafts.prefill(s, actor=person("cy"), reel_id=None, avatar_id=AVATAR_ID)
        assert (again.reel_id, again.scene, again.created) == (latest, 1, False)
    with session_factory() as s:
        fresh = drafts.prefill(s, actor=person("eve"), reel_id=None, voice_id=VOICE_ID)
        assert fresh.created


def reel_events(session, rid: int) -> list[str]:
    return [e.detail for e in session.query(ReelEvent).filter_by(reel_id=rid).order_by(ReelEvent.id)]


def test_measured_durations_use_stored_samples_of_the_exact_scene(session_factory, tmp_path: Path) -> None:
    scenes = [validation.SceneInput(1, voice_id=VOICE_ID, script="Hello there."),
              validation.SceneInput(2, voice_id=VOICE_ID, script="Hello there.", speed=1.2),
              validation.SceneInput(3, voice_id=VOICE_ID, script="")]
    rid = _create(session_factory, "ana", scenes=scenes)
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF")
    with session_factory() as s:
        s.add(SpeechSample(cache_key=speech_cache_key(VOICE_ID, "Hello there.", 1.0, None), voice_id=VOICE_ID,
                           text="Hello there.", speed=1.0, locale=None, audio_path=str(audio), duration_s=1.7))
        s.commit()
        assert speech.measured_durations(s, drafts.get_reel(s, rid)) == {1: 1.7}
        audio.unlink()  # a sample whose audio file is gone does not count
        assert speech.measured_durations(s, drafts.get_reel(s, rid)) == {}


class _Looks:
    """Index stand-in: look id -> avatar type."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def look(self, look_id):
        kind = self.types.get(look_id)
        return SimpleNamespace(avatar_type=kind) if kind else None


def test_scene_costs_price_each_scene_on_its_own_and_add_up() -> None:
    index = _Looks({"photo": "photo_avatar", "studio": "studio_avatar"})
    reel = Reel(engine="avatar_iv", resolution="1080p", mode="scene_based")
    reel.scenes = [Scene(position=n, avatar_id=look, script="word " * 20, speed=1.0, pitch=0.0)
                   for n, look in ((1, "photo"), (2, "studio"), (3, "gone"))]
    estimate = estimates.estimate_reel(reel, index)
    split = estimates.scene_costs(reel, index, estimate)
    seconds = estimate.scene_durations[0]  # 20 words at 150 per minute: 8 s each
    assert split.scenes == [estimates.cents(0.05 * seconds), estimates.cents(0.0667 * seconds),
                            estimates.cents(0.0667 * seconds)]  # unknown looks are priced as studio avatars
    assert sum(split.scenes) + split.rounding == split.total == estimates.cents(estimate.cost_usd)
    # Lengthening scene 3 leaves scenes 1 and 2 as they were.
    reel.scenes[2].script = "word " * 33
    longer = estimates.scene_costs(reel, index, estimates.estimate_reel(reel, index))
    assert longer.scenes[:2] == split.scenes[:2] and longer.scenes[2] > split.scenes[2]
    empty = Reel(engine="avatar_iv", resolution="1080p", mode="studio")
    empty.scenes = [Scene(position=1, script="", speed=1.0, pitch=0.0)]
    assert estimates.scene_costs(empty, index, estimates.estimate_reel(empty, index)).scenes == [0]


def test_voice_choices_filter_and_keep_the_current_voice(catalog_index) -> None:
    df = voices_frame(catalog_index.voices)
    english_female = tables.voice_choices(df, language="English", gender="female")
    assert english_female and all(
        (row.language, row.gender) == ("English", "female")
        for row in df.set_index("voice_id").loc[english_female].itertuples()
    )
    gb = tables.voice_choices(df, language="English", accent="en-GB")
    assert set(gb) == {v.voice_id for v in catalog_index.voices if "en-GB" in catalog_index.locales(v.voice_id)}
    german = tables.voice_choices(df, language="German", keep=VOICE_ID)
    assert german[0] == VOICE_ID and VOICE_ID not in german[1:]
    assert tables.voice_choices(df, language="German", keep="gone") == tables.voice_choices(df, language="German")
