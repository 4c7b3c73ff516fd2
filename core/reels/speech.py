"""Speech samples: hear a voice say a line before paying for a video (``POST /v3/voices/speech``).

HeyGen bills speech per second of audio and its audio URLs expire, so each distinct request
(voice, text, speed, locale) is generated once for the whole deployment: the audio is downloaded
and its bytes are stored in the :class:`~core.models.SpeechSample` row that later requests reuse,
so every app replica can play (and no replica pays again for) a sample made on another. Pages
play it from a ``data:`` URL (:func:`audio_data_url`), not from a replica's own ``/media`` path.
Rows made before the bytes were stored point at a file under ``DATA_DIR/speech`` instead.
Only Starfish voices (32-hex ``voice_id``) can be sampled; HeyGen rejects the others.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.permissions import Action, require
from core.catalog.tables import is_starfish_id
from core.models import SpeechSample

MAX_TEXT_CHARS = 5000
MIN_SPEED, MAX_SPEED = 0.5, 2.0
SPEECH_FOLDER = "speech"
#: Audio file suffix → MIME type of the stored sample.
CONTENT_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".aac": "audio/aac",
                 ".ogg": "audio/ogg", ".flac": "audio/flac"}

#: Why a voice cannot be sampled, in one sentence for the user.
NOT_STARFISH_REASON = (
    "HeyGen's speech endpoint only works with its own Starfish voices; this voice comes from another "
    "engine, so it can only be heard in a rendered video."
)


class SpeechUnavailable(ValueError):
    """The sample cannot be generated (voice not supported, empty or too long text, speed out of range).

    ``str(exc)`` is one sentence for the user.
    """


_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def can_sample(voice_id: str | None) -> bool:
    """True when ``POST /v3/voices/speech`` accepts the voice (Starfish: a 32-hex ``voice_id``)."""
    return is_starfish_id(voice_id)


def speech_cache_key(voice_id: str, text: str, speed: float = 1.0, locale: str | None = None) -> str:
    """64-hex SHA-256 of the request; equal requests (same voice, text, speed, locale) share a sample."""
    payload = json.dumps([voice_id, text, round(float(speed), 3), locale or None], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _validate(voice_id: str, text: str, speed: float) -> str:
    if not can_sample(voice_id):
        raise SpeechUnavailable(NOT_STARFISH_REASON)
    text = (text or "").strip()
    if not text:
        raise SpeechUnavailable("Write a line for the voice to say first.")
    if len(text) > MAX_TEXT_CHARS:
        raise SpeechUnavailable(f"A sample can be at most {MAX_TEXT_CHARS:,} characters ({len(text):,} given).")
    if not MIN_SPEED <= float(speed) <= MAX_SPEED:
        raise SpeechUnavailable(f"Speed must be between {MIN_SPEED} and {MAX_SPEED} (got {speed}).")
    return text


def _usable(sample: SpeechSample | None) -> SpeechSample | None:
    """The sample when its audio can be played: bytes in the row, or (older rows) the file exists."""
    if sample is None:
        return None
    if sample.content_type is not None:  # set together with ``audio``
        return sample
    return sample if sample.audio_path and Path(sample.audio_path).is_file() else None


def find_speech_sample(session: Session, voice_id: str, text: str, *, speed: float = 1.0,
                       locale: str | None = None) -> SpeechSample | None:
    """The stored sample for this request whose audio file still exists, else ``None`` (no HeyGen call)."""
    key = speech_cache_key(voice_id, (text or "").strip(), speed, locale)
    return _usable(session.get(SpeechSample, key))


def _suffix(url: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    return suffix if suffix in CONTENT_TYPES else ".mp3"


def sample_audio(session: Session, sample: SpeechSample) -> tuple[bytes, str] | None:
    """``(audio bytes, MIME type)`` of a stored sample, or ``None`` when an older row's file is gone."""
    row = session.execute(select(SpeechSample.audio, SpeechSample.content_type)
                          .where(SpeechSample.cache_key == sample.cache_key)).first()
    if row is not None and row.audio is not None:
        return bytes(row.audio), row.content_type or "audio/mpeg"
    path = Path(sample.audio_path or "")
    if sample.audio_path and path.is_file():
        return path.read_bytes(), CONTENT_TYPES.get(path.suffix.lower(), "audio/mpeg")
    return None


def audio_data_url(session: Session, sample: SpeechSample) -> str | None:
    """The sample as a ``data:<MIME>;base64,…`` URL (any replica can play it), or ``None`` (see
    :func:`sample_audio`)."""
    audio = sample_audio(session, sample)
    if audio is None:
        return None
    data, content_type = audio
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"


def _fetch_audio(client: Any, url: str, data_dir: Path | str) -> bytes:
    """Download HeyGen's audio URL through a temporary file in ``data_dir/speech``; returns the bytes."""
    tmp = Path(data_dir) / SPEECH_FOLDER / f".download-{uuid.uuid4().hex}{_suffix(url)}"
    try:
        client.download(url, tmp)
        return tmp.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)


def speech_sample(session: Session, client: Any, data_dir: Path | str, voice_id: str, text: str, *,
                  actor: Actor, speed: float = 1.0, locale: str | None = None) -> SpeechSample:
    """The sample for (voice, text, speed, locale): from the database when generated before, else made now.

    A new sample calls ``POST /v3/voices/speech`` once (billed per second of audio), downloads the audio
    (through a temporary file in ``data_dir/speech``) and stores a :class:`SpeechSample` with the bytes
    (``audio``, ``content_type``) and ``duration_s`` in seconds. Concurrent requests for the same sample
    in one process wait for the first; across replicas the first row stored wins. The caller's
    transaction commits the row.

    Args:
        text: 1–5,000 characters (stripped); speed: 0.5–2.0; locale: BCP-47 tag such as ``en-GB`` or None.

    Raises:
        PermissionDenied: ``actor`` is not a producer or admin (samples are billed); no HeyGen call.
        SpeechUnavailable: not a Starfish voice, empty/too long text, speed out of range (no HeyGen call).
        core.heygen.errors.HeyGenError: the HeyGen request or the download failed (``str()`` is for users).
    """
    require(actor, Action.SPEECH_SAMPLE)
    text = _validate(voice_id, text, speed)
    key = speech_cache_key(voice_id, text, speed, locale)
    with _lock_for(key):
        row = session.get(SpeechSample, key, populate_existing=True)
        if _usable(row):
            return row
        speech = client.generate_speech(text, voice_id, speed=float(speed), locale=locale or None)
        audio = _fetch_audio(client, speech.audio_url, data_dir)
        values = {"voice_id": voice_id, "text": text, "speed": float(speed), "locale": locale or None,
                  "audio_path": "", "audio": audio, "content_type": CONTENT_TYPES[_suffix(speech.audio_url)],
                  "duration_s": float(speech.duration)}
        if row is None:
            try:
                with session.begin_nested():  # another process may store the same sample meanwhile
                    row = SpeechSample(cache_key=key, **values)
                    session.add(row)
                return row
            except IntegrityError:
                row = session.get(SpeechSample, key, populate_existing=True)
        for name, value in values.items():
            setattr(row, name, value)
        session.flush()
        return row
def measured_durations(session: Session, reel: Any) -> dict[int, float]:
    """``{scene position: seconds}`` of the stored speech samples matching each scene's current voice,
    script, speed and accent (no HeyGen call); scenes never listened to are absent."""
    out: dict[int, float] = {}
    for scene in reel.scenes:
        if not scene.voice_id or not (scene.script or "").strip():
            continue
        sample = find_speech_sample(session, scene.voice_id, scene.script, speed=scene.speed,
                                    locale=scene.locale)
        if sample is not None:
            out[scene.position] = float(sample.duration_s)
    return out


