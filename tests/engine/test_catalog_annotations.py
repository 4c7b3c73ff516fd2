"""Team annotations on voices and cached speech samples, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.access.conflicts import EditConflict
from core.access.permissions import PermissionDenied
from core.catalog.annotations import (
    AGE_GROUPS,
    MAX_NOTES_CHARS,
    MAX_TAGS,
    AnnotationError,
    annotations_version,
    clean_tags,
    get_annotations,
    save_annotation,
)
from core.db import session_scope
from core.heygen.errors import InvalidRequestError
from core.heygen.types import Speech
from core.models import SpeechSample, VoiceAnnotation
from core.reels.speech import (
    NOT_STARFISH_REASON,
    SpeechUnavailable,
    audio_data_url,
    find_speech_sample,
    sample_audio,
    speech_cache_key,
    speech_sample,
)
from tests.people import person

STARFISH = "cef3bc4e0a84424cafcde6f2cf466c97"
ANA = person("Ana")
THIRD_PARTY = "eKwKdepsAlV2JCGFmqnw"


def _save(factory, voice_id=STARFISH, **overrides):
    values = {"tags": ["Warm", "brand safe"], "age_group": "adult", "approved": True, "notes": "Good for ads",
              "actor": person("Ana")}
    values.update(overrides)
    with session_scope(factory) as session:
        return save_annotation(session, voice_id, **values)


def test_save_then_read_back(session_factory):
    _save(session_factory, tags=[" Warm ", "brand  safe", "warm", ""], notes="  Good for ads \n")
    with session_factory() as session:
        rows = get_annotations(session)
    row = rows[STARFISH]
    assert row.tags == ["warm", "brand safe"]
    assert (row.age_group, row.approved, row.notes, row.updated_by) == ("adult", True, "Good for ads", "Ana")
    assert row.updated_at.tzinfo is not None


def test_save_replaces_existing_annotation_and_records_new_actor(session_factory):
    _save(session_factory)
    _save(session_factory, tags=[], age_group=None, approved=False, notes="", actor=person("Ben"))
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(VoiceAnnotation)) == 1
        row = get_annotations(session)[STARFISH]
    assert (row.tags, row.age_group, row.approved, row.notes, row.updated_by) == ([], None, False, "", "Ben")


def test_version_changes_on_insert_edit_and_delete(session_factory):
    with session_factory() as session:
        empty = annotations_version(session)
    assert empty == (0, None)
    _save(session_factory)
    with session_factory() as session:
        first = annotations_version(session)
    _save(session_factory, notes="changed")
    with session_factory() as session:
        edited = annotations_version(session)
    with session_scope(session_factory) as session:
        session.delete(session.get(VoiceAnnotation, STARFISH))
    with session_factory() as session:
        deleted = annotations_version(session)
    assert first[0] == 1 and edited[0] == 1 and deleted == (0, None)
    assert edited[1] > first[1]


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"age_group": "teen"}, "age_group", "Age group must be one of"),
        ({"notes": "x" * (MAX_NOTES_CHARS + 1)}, "notes", "Notes are limited"),
        ({"tags": [f"t{i}" for i in range(MAX_TAGS + 1)]}, "tags", "at most"),
        ({"tags": ["y" * 41]}, "tags", "too long"),
    ],
)
def test_invalid_input_raises_clear_error_and_writes_nothing(session_factory, overrides, field, fragment):
    with pytest.raises(AnnotationError) as info, session_scope(session_factory) as session:
        save_annotation(session, STARFISH, **{"tags": [], "age_group": None, "approved": False, "notes": "",
                                              "actor": person("Ana"), **overrides})
    assert info.value.field == field
    assert fragment in str(info.value)
    with session_factory() as session:
        assert get_annotations(session) == {}


def test_empty_voice_id_is_rejected(session_factory):
    with pytest.raises(AnnotationError, match="Choose a voice"), session_scope(session_factory) as session:
        save_annotation(session, " ", tags=[], age_group=None, approved=False, notes="", actor=person("Ana"))


def test_age_group_is_case_insensitive_and_every_group_is_accepted(session_factory):
    for group in AGE_GROUPS:
        row = _save(session_factory, voice_id=f"v-{group}", age_group=group.upper())
        assert row.age_group == group


def test_clean_tags_accepts_comma_separated_text():
    assert clean_tags("Ads, narration ,ads,") == ["ads", "narration"]


# -- speech samples ---------------------------------------------------------------------------------


class FakeSpeechClient:
    """Stands in for HeyGenClient.generate_speech/download and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.downloads = 0

    def generate_speech(self, text, voice_id, *, speed=None, locale=None, language=None, input_type=None):
        if len(voice_id) != 32:
            raise InvalidRequestError(400, "invalid_parameter", "voice not supported", "voice_id", None)
        self.calls.append({"text": text, "voice_id": voice_id, "speed": speed, "locale": locale})
        return Speech(audio_url=f"/media/speech/{len(self.calls)}.wav", duration=2.5)

    def download(self, url, dest_path):
        self.downloads += 1
        Path(dest_path).parent.mkdir(parents=True, exist_ok=True)
        Path(dest_path).write_bytes(b"RIFF....WAVE")
        return Path(dest_path)


def test_speech_sample_calls_heygen_once_per_request_and_reuses_the_stored_audio(session_factory, tmp_path):
    client = FakeSpeechClient()
    with session_scope(session_factory) as session:
        first = speech_sample(session, client, tmp_path, STARFISH, " Hello there ", speed=1.0, locale="en-GB", actor=ANA)
    with session_scope(session_factory) as session:
        again = speech_sample(session, client, tmp_path, STARFISH, "Hello there", speed=1.0, locale="en-GB", actor=ANA)
    assert len(client.calls) == 1 and client.downloads == 1
    assert client.calls[0] == {"text": "Hello there", "voice_id": STARFISH, "speed": 1.0, "locale": "en-GB"}
    assert again.cache_key == first.cache_key == speech_cache_key(STARFISH, "Hello there", 1.0, "en-GB")
    assert again.duration_s == 2.5 and again.content_type == "audio/wav"
    assert list((tmp_path / "speech").iterdir()) == []  # the download went into the row, no file is left
    with session_factory() as session:
        assert sample_audio(session, again) == (b"RIFF....WAVE", "audio/wav")
        assert audio_data_url(session, again) == "data:audio/wav;base64," + base64.b64encode(b"RIFF....WAVE").decode()
    with session_factory() as session:
        assert find_speech_sample(session, STARFISH, "Hello there", locale="en-GB").cache_key == first.cache_key
        assert find_speech_sample(session, STARFISH, "Hello there") is None  # other locale: not generated


def test_speech_sample_differs_by_speed_and_locale(session_factory, tmp_path):
    client = FakeSpeechClient()
    with session_scope(session_factory) as session:
        speech_sample(session, client, tmp_path, STARFISH, "Hi", actor=ANA)
        speech_sample(session, client, tmp_path, STARFISH, "Hi", speed=1.25, actor=ANA)
        speech_sample(session, client, tmp_path, STARFISH, "Hi", locale="en-AU", actor=ANA)
    assert len(client.calls) == 3
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SpeechSample)) == 3


def test_a_sample_made_by_one_replica_is_reused_by_another_with_its_own_data_folder(session_factory, tmp_path):
    client = FakeSpeechClient()
    with session_scope(session_factory) as session:
        speech_sample(session, client, tmp_path / "replica-a", STARFISH, "Hi", actor=ANA)
    with session_scope(session_factory) as session:
        again = speech_sample(session, client, tmp_path / "replica-b", STARFISH, "Hi", actor=ANA)
        assert sample_audio(session, again) == (b"RIFF....WAVE", "audio/wav")
    assert len(client.calls) == 1  # billed once for the deployment


def test_an_older_sample_whose_file_is_gone_is_generated_again(session_factory, tmp_path):
    client = FakeSpeechClient()
    audio = tmp_path / "old.wav"
    audio.write_bytes(b"RIFF")
    with session_scope(session_factory) as session:  # a row from before samples were kept in the database
        session.add(SpeechSample(cache_key=speech_cache_key(STARFISH, "Hi", 1.0, None), voice_id=STARFISH, text="Hi",
                                 speed=1.0, locale=None, audio_path=str(audio), duration_s=1.0))
    with session_factory() as session:
        old = find_speech_sample(session, STARFISH, "Hi")
        assert sample_audio(session, old) == (b"RIFF", "audio/wav")
    audio.unlink()
    with session_factory() as session:
        assert find_speech_sample(session, STARFISH, "Hi") is None
    with session_scope(session_factory) as session:
        speech_sample(session, client, tmp_path, STARFISH, "Hi", actor=ANA)
    assert len(client.calls) == 1
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SpeechSample)) == 1
        assert find_speech_sample(session, STARFISH, "Hi").content_type == "audio/wav"


@pytest.mark.parametrize(
    ("voice_id", "text", "speed", "message"),
    [
        (THIRD_PARTY, "Hi", 1.0, NOT_STARFISH_REASON),
        (STARFISH, "   ", 1.0, "Write a line"),
        (STARFISH, "x" * 5001, 1.0, "at most 5,000"),
        (STARFISH, "Hi", 2.5, "Speed must be between"),
    ],
)
def test_unusable_requests_never_reach_heygen(session_factory, tmp_path, voice_id, text, speed, message):
    client = FakeSpeechClient()
    with pytest.raises(SpeechUnavailable) as info, session_scope(session_factory) as session:
        speech_sample(session, client, tmp_path, voice_id, text, speed=speed, actor=ANA)
    assert message in str(info.value)
    assert client.calls == []


def test_only_producers_and_admins_annotate_or_sample(session_factory, tmp_path):
    with pytest.raises(PermissionDenied, match=r"^Viewers cannot annotate voices; ask an admin for the producer role\.$"):
        _save(session_factory, actor=person("Vic", "viewer"))
    client = FakeSpeechClient()
    with pytest.raises(PermissionDenied, match="Viewers cannot generate speech samples"), \
            session_scope(session_factory) as session:
        speech_sample(session, client, tmp_path, STARFISH, "Hi", actor=person("Vic", "viewer"))
    assert client.calls == []
    with session_factory() as session:
        assert get_annotations(session) == {}


def test_a_save_from_a_stale_version_is_refused_and_the_stored_text_stays(session_factory):
    first = _save(session_factory, notes="Ana's note", expected_version=0)
    assert first.version == 1
    _save(session_factory, notes="Ana again", actor=person("Ana"), expected_version=1)   # v2, another tab
    with pytest.raises(EditConflict) as caught:
        _save(session_factory, notes="Ben's note", actor=person("Ben"), expected_version=1)
    assert caught.value.changed_by == "Ana" and not caught.value.same_person
    assert str(caught.value).startswith("Changed by Ana at ")
    with pytest.raises(EditConflict) as again:
        _save(session_factory, notes="Ana's stale tab", actor=person("Ana"), expected_version=1)
    assert again.value.same_person and str(again.value).startswith("Changed by Ana in another tab at ")
    with session_factory() as session:
        row = get_annotations(session)[STARFISH]
    assert (row.notes, row.version, row.updated_by_id) == ("Ana again", 2, person("Ana").user_id)


def test_creating_over_an_annotation_made_meanwhile_is_refused(session_factory):
    _save(session_factory, notes="first", expected_version=0)
    with pytest.raises(EditConflict):
        _save(session_factory, notes="second", actor=person("Ben"), expected_version=0)
