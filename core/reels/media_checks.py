"""Checks of a user's own files before they go to HeyGen: recordings for scenes and voice clones, photos
for photo avatars.

Every check reads the file itself, never trusts its name: the type comes from the bytes (``filetype``)
and must be one HeyGen takes for that use; audio is decoded with the ffmpeg that ``imageio-ffmpeg``
ships (at most :data:`DECODE_CAP_S` seconds are decoded, so a long file costs no more than a short
one) and its length is the length of the decoded samples; photos are fully decoded with Pillow, so a
truncated or corrupt JPEG is caught. A problem is :class:`MediaRejected` with one sentence for the
user; a legal but doubtful file (silence only, a voice sample shorter than recommended) passes with
``warnings``.

Limits (HeyGen's where it states them): 32 MB per upload; scene audio 1 s – 10 min; voice samples
10 s – 5 min (30 s – 3 min recommended); photos png/jpeg of at least 256 × 256 px.
"""

from __future__ import annotations

import io
import math
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import filetype
import numpy as np
from PIL import Image, UnidentifiedImageError

#: Largest upload HeyGen takes, in bytes (``POST /v3/assets``: 32 MB).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
#: Scene audio length bounds, in seconds (HeyGen: audio input up to 10 minutes).
SCENE_AUDIO_MIN_S, SCENE_AUDIO_MAX_S = 1.0, 600.0
#: Voice clone sample bounds and the recommended range, in seconds.
CLONE_MIN_S, CLONE_MAX_S = 10.0, 300.0
CLONE_RECOMMENDED_S = (30.0, 180.0)
#: Smallest photo side, in pixels.
PHOTO_MIN_PX = 256
#: Seconds of audio decoded at most (one more than the longest allowed scene audio).
DECODE_CAP_S = SCENE_AUDIO_MAX_S + 1
#: Peak level under which a recording counts as silent (−50 dBFS).
SILENCE_PEAK = 10 ** (-50 / 20)
#: Longest stored file name, in characters.
NAME_MAX_CHARS = 120

AUDIO_TYPES = {"audio/x-wav": ("wav", "audio/wav"), "audio/wav": ("wav", "audio/wav"),
               "audio/mpeg": ("mp3", "audio/mpeg")}
IMAGE_TYPES = {"image/png": ("png", "image/png"), "image/jpeg": ("jpeg", "image/jpeg")}
_KIND_WORDS = {"image/png": "a PNG image", "image/jpeg": "a JPEG image", "audio/mpeg": "MP3 audio",
               "audio/x-wav": "WAV audio", "video/mp4": "an MP4 video", "video/webm": "a WebM video",
               "application/pdf": "a PDF document"}
_EXTENSIONS = {"wav": "wav", "wave": "wav", "mp3": "mp3", "png": "png", "jpg": "jpeg", "jpeg": "jpeg"}
_DECODE_RATE = 16_000
_DECODE_TIMEOUT_S = 60.0


class MediaRejected(ValueError):
    """The file cannot be used; ``str(exc)`` is one sentence saying why and what would work."""


@dataclass(frozen=True)
class CheckedMedia:
    """A file that passed the checks.

    ``name`` is the cleaned display name, ``format`` ``wav``/``mp3``/``png``/``jpeg``, ``mime_type``
    what is sent to HeyGen, ``size_bytes`` the size, ``duration_s`` seconds of audio (``None`` for
    photos), ``width``/``height`` pixels (``None`` for audio), ``warnings`` sentences to show.
    """

    name: str
    format: str
    mime_type: str
    size_bytes: int
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)


def clean_name(filename: str | None, fallback: str = "upload") -> str:
    """A safe display name: the last path part (``../`` and folders dropped), NFC, no control
    characters, at most :data:`NAME_MAX_CHARS` characters (the extension kept). Unicode stays."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/")).rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        return fallback
    stem, dot, ext = name.rpartition(".")
    if dot and len(ext) <= 5 and len(name) > NAME_MAX_CHARS:
        return stem[: NAME_MAX_CHARS - len(ext) - 1].rstrip() + "." + ext
    return name[:NAME_MAX_CHARS]


def _size_check(data: bytes, name: str) -> None:
    if not data:
        raise MediaRejected(f"'{name}' is empty (0 bytes); choose the file again or record a new take.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise MediaRejected(f"'{name}' is {len(data) / 1_048_576:.1f} MB; HeyGen takes at most 32 MB per file.")


def _sniffed(data: bytes, name: str, allowed: dict[str, tuple[str, str]], wanted: str) -> tuple[str, str]:
    """(format, mime) from the bytes; the name's extension must not claim another type."""
    mime = filetype.guess_mime(data[:8192])
    if mime not in allowed:
        found = _KIND_WORDS.get(mime or "", "not a file type HeyGen takes here")
        raise MediaRejected(f"'{name}' is {found}; upload {wanted}.")
    fmt, send_as = allowed[mime]
    ext = _EXTENSIONS.get(name.rpartition(".")[2].lower()) if "." in name else None
    if ext is not None and ext != fmt:
        raise MediaRejected(f"'{name}' is named .{name.rpartition('.')[2]} but its content is "
                            f"{_KIND_WORDS.get(mime, mime)}; rename it or export it as {wanted}.")
    return fmt, send_as


@lru_cache(maxsize=1)
def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode_audio(data: bytes, cap_s: float = DECODE_CAP_S) -> np.ndarray:
    """Mono float samples in [-1, 1] at 16 kHz of at most ``cap_s`` seconds of an audio file's bytes.

    Raises:
        MediaRejected: ffmpeg cannot decode the bytes (corrupt or not audio).
    """
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-t", f"{cap_s:.3f}",
           "-f", "s16le", "-ac", "1", "-ar", str(_DECODE_RATE), "pipe:1"]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=_DECODE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaRejected("The recording could not be read; try another file.") from exc
    pcm = proc.stdout[: len(proc.stdout) // 2 * 2]
    if proc.returncode != 0 and not pcm:
        raise MediaRejected("The recording could not be read: the file is damaged or not audio.")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def _audio(data: bytes, filename: str | None, bounds: tuple[float, float], what: str) -> CheckedMedia:
    name = clean_name(filename, "recording.wav")
    _size_check(data, name)
    fmt, mime = _sniffed(data, name, AUDIO_TYPES, "a WAV or MP3 recording")
    samples = decode_audio(data)
    seconds = round(len(samples) / _DECODE_RATE, 2)
    low, high = bounds
    if seconds < low:
        raise MediaRejected(f"'{name}' lasts {seconds:.1f} s; {what} needs at least {low:.0f} s of audio.")
    if seconds > high:
        longest = f"{high / 60:.0f} minutes" if high >= 60 else f"{high:.0f} s"
        shown = "over " + _minutes(DECODE_CAP_S - 1) if len(samples) >= DECODE_CAP_S * _DECODE_RATE - 1 else (
            _minutes(seconds))
        raise MediaRejected(f"'{name}' lasts {shown}; {what} can be at most {longest}.")
    warnings = []
    if samples.size == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        warnings.append(f"'{name}' sounds silent (no sound above −50 dBFS); check the microphone and listen back.")
    return CheckedMedia(name, fmt, mime, len(data), duration_s=seconds, warnings=tuple(warnings))


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(int(math.floor(seconds)), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{seconds:.1f} s"


def check_scene_audio(data: bytes, filename: str | None) -> CheckedMedia:
    """A recording for one scene: WAV or MP3, ≤ 32 MB, 1 s – 10 min long; silence is a warning.

    Raises:
        MediaRejected: empty, too big, not WAV/MP3 (or named as another type), undecodable, too short/long.
    """
    return _audio(data, filename, (SCENE_AUDIO_MIN_S, SCENE_AUDIO_MAX_S), "a scene")


def check_voice_sample(data: bytes, filename: str | None) -> CheckedMedia:
    """A voice clone sample: WAV or MP3, 10 s – 5 min (30 s – 3 min recommended, else a warning).

    Raises:
        MediaRejected: as :func:`check_scene_audio`, with the clone's length bounds.
    """
    checked = _audio(data, filename, (CLONE_MIN_S, CLONE_MAX_S), "a voice sample")
    low, high = CLONE_RECOMMENDED_S
    if not low <= (checked.duration_s or 0) <= high:
        advice = (f"HeyGen clones best from {low:.0f} s to {high / 60:.0f} min of clear speech; "
                  f"this sample lasts {_minutes(checked.duration_s or 0)}.")
        return CheckedMedia(**{**checked.__dict__, "warnings": (*checked.warnings, advice)})
    return checked


def check_photo(data: bytes, filename: str | None) -> CheckedMedia:
    """A photo for a photo avatar: PNG or JPEG, ≤ 32 MB, fully decodable, at least 256 × 256 px.

    Raises:
        MediaRejected: empty, too big, another type, corrupt or truncated, too small.
    """
    name = clean_name(filename, "photo.jpg")
    _size_check(data, name)
    fmt, mime = _sniffed(data, name, IMAGE_TYPES, "a PNG or JPEG photo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaRejected(f"'{name}' could not be read as an image: the file is damaged or incomplete.") from exc
    if min(width, height) < PHOTO_MIN_PX:
        raise MediaRejected(f"'{name}' is {width} × {height} px; a photo avatar needs at least "
                            f"{PHOTO_MIN_PX} × {PHOTO_MIN_PX} px.")
    return CheckedMedia(name, fmt, mime, len(data), width=width, height=height)
