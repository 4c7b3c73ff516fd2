"""Real, playable media files served by the local HeyGen sandbox.

Everything here works offline: frames and placeholders are drawn with Pillow, tones are synthesised
with numpy and written with the stdlib ``wave`` module, and MP4s are encoded by the ffmpeg binary that
ships with ``imageio_ffmpeg``. Files are small and quick to make (640 px on the long side, 12 fps,
x264 ``ultrafast``) whatever resolution the reel asked for; the requested resolution is noted in a
caption on every frame.

Every writer creates missing parent folders and writes atomically (temporary file in the same folder,
then ``os.replace``), so a concurrent reader sees either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import subprocess
import tempfile
import threading
import unicodedata
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SAMPLE_RATE = 22_050
"""Sample rate of every WAV written here, in Hz (mono, 16-bit)."""

FPS = 12
"""Frame rate of rendered MP4s, in frames per second."""

LONG_SIDE_PX = 640
"""Pixel length of the long side of rendered frames, whatever resolution was requested."""

MIN_SCENE_S = 0.5
"""Shortest video segment per scene, in seconds."""

ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "5:4": (5, 4),
}
"""Supported aspect ratios (``"auto"`` is treated as 16:9)."""

SANDBOX_LABEL = "SANDBOX — not a HeyGen render"
DEFAULT_BACKGROUND = "#2E4A7D"
FFMPEG_TIMEOUT_S = 120.0

_PREVIEW_SIZES = {"landscape": (480, 270), "portrait": (270, 480), "square": (360, 360)}
_FONT_FILES = {
    False: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",),
    True: ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",),
}


_DRAW_LOCK = threading.Lock()  # cached FreeType fonts are shared; draw one image at a time


class MediaError(RuntimeError):
    """ffmpeg failed or a media file could not be read; the message carries ffmpeg's stderr tail."""


@dataclass(frozen=True)
class SceneMedia:
    """What one scene of a sandbox video shows and says.

    ``duration_s`` is the spoken length in seconds (segments are at least 0.5 s); ``background`` is
    ``"#RRGGBB"`` or None for the default colour; ``audio_file`` is the scene's own recording (an
    uploaded asset), played instead of the synthesised tone.
    """

    avatar_name: str
    script: str
    duration_s: float
    background: str | None = None
    audio_file: str | None = None


# --------------------------------------------------------------------------------------------------
# Files and ffmpeg


@contextlib.contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); move it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _run_ffmpeg(args: list[str], what: str) -> subprocess.CompletedProcess:
    """Run ffmpeg (no shell) and raise MediaError with the stderr tail if it fails."""
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=FFMPEG_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffmpeg timed out after {FFMPEG_TIMEOUT_S:.0f} s while {what}") from exc
    except OSError as exc:
        raise MediaError(f"could not start ffmpeg while {what}: {exc}") from exc
    if proc.returncode != 0:
        raise MediaError(f"ffmpeg failed while {what} (exit {proc.returncode}): {_tail(proc.stderr)}")
    return proc


def _tail(text: str, lines: int = 8) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(no output)"


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")


def probe_duration(path: Path) -> float:
    """Return the duration of an audio or video file, in seconds.

    WAV files are read with the ``wave`` module (exact); anything else is probed with ``ffmpeg -i``
    (the container's "Duration: HH:MM:SS.xx", 10 ms resolution).
    Raises FileNotFoundError if the file is missing, MediaError if no duration can be read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(path)
    if path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as wav:
                return wav.getnframes() / wav.getframerate()
        except (wave.Error, EOFError) as exc:
            raise MediaError(f"unreadable WAV file {path.name}: {exc}") from exc
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaError(f"could not probe {path.name}: {exc}") from exc
    match = _DURATION_RE.search(proc.stderr)
    if not match:
        raise MediaError(f"no duration found for {path.name}: {_tail(proc.stderr)}")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


# --------------------------------------------------------------------------------------------------
# Colours, fonts, text


@lru_cache(maxsize=32)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (wide script coverage) when installed, else Pillow's bundled scalable font."""
    for candidate in _FONT_FILES[bold]:
        with contextlib.suppress(OSError):
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)


def clean_text(text: str) -> str:
    """Drop control and format characters (keeps newlines as spaces) so Pillow never chokes."""
    text = (text or "").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    kept = (ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\u200c\u200d")
    return re.sub(r" {2,}", " ", "".join(kept)).strip()


def _hex_to_rgb(value: str | None, default: str = DEFAULT_BACKGROUND) -> tuple[int, int, int]:
    """Parse ``#RRGGBB``; anything else falls back to ``default``."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", (value or "").strip())
    digits = match.group(1) if match else default.lstrip("#")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _colour_for(text: str) -> tuple[int, int, int]:
    """A pleasant mid-dark colour derived from a stable hash of ``text``."""
    import colorsys

    digest = hashlib.sha256(text.encode("utf-8", "replace")).digest()
    hue = digest[0] / 255
    sat = 0.45 + digest[1] / 255 * 0.2
    light = 0.36 + digest[2] / 255 * 0.1
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return round(r * 255), round(g * 255), round(b * 255)


def _ink_for(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """White on dark backgrounds, near-black on light ones."""
    luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return (20, 22, 28) if luminance > 150 else (255, 255, 255)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _text_width(font, text: str) -> float:
    try:
        return font.getlength(text)
    except Exception:  # noqa: BLE001 — odd glyphs must never break a render
        return len(text) * getattr(font, "size", 10) * 0.6


def _fit_line(font, text: str, max_width: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``max_width`` pixels."""
    if _text_width(font, text) <= max_width:
        return text
    while text and _text_width(font, text + "…") > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(font, text: str, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap to ``max_width`` pixels; long words (or scripts without spaces) break anywhere.

    More than ``max_lines`` lines are truncated, the last one ending with "…".
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _text_width(font, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:  # a word wider than the line: break it by character
            if _text_width(font, current + ch) > max_width and current:
                lines.append(current)
                current = ""
            current += ch
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit_line(font, lines[-1] + "…", max_width)
    return lines


def _draw_text(draw: ImageDraw.ImageDraw, xy, text: str, font, fill, anchor: str = "la") -> None:
    """Draw text, never raising (falls back to the plain layout engine)."""
    try:
        draw.text(xy, text, font=font, fill=fill, anchor=anchor)
    except Exception:  # noqa: BLE001
        with contextlib.suppress(Exception):
            draw.text(xy, text.encode("ascii", "replace").decode(), font=font, fill=fill, anchor=anchor)


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-_.]+", clean_text(name)) if w and w[0].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[1][0] if len(words) > 1 else "")
    return letters.upper()


# --------------------------------------------------------------------------------------------------
# Frames


def frame_size(aspect_ratio: str = "16:9") -> tuple[int, int]:
    """Pixel (width, height) of rendered frames: 640 px on the long side, both sides even.

    ``aspect_ratio`` is one of 16:9, 9:16, 1:1, 4:5, 5:4 or "auto" (= 16:9); raises ValueError otherwise.
    """
    key = "16:9" if aspect_ratio in (None, "", "auto") else aspect_ratio
    if key not in ASPECT_RATIOS:
        raise ValueError(f"unsupported aspect ratio {aspect_ratio!r}; expected one of {sorted(ASPECT_RATIOS)}")
    w, h = ASPECT_RATIOS[key]
    if w >= h:
        return LONG_SIDE_PX, round(LONG_SIDE_PX * h / w / 2) * 2
    return round(LONG_SIDE_PX * w / h / 2) * 2, LONG_SIDE_PX


def _scene_frame(scene: SceneMedia, number: int, total: int | None, size: tuple[int, int],
                 caption: str) -> Image.Image:
    """Draw one scene's still frame: avatar name, scene number, wrapped script, sandbox label."""
    with _DRAW_LOCK:
        return _draw_scene_frame(scene, number, total, size, caption)


def _draw_scene_frame(scene: SceneMedia, number: int, total: int | None, size: tuple[int, int],
                      caption: str) -> Image.Image:
    width, height = size
    bg = _hex_to_rgb(scene.background)
    ink = _ink_for(bg)
    soft = _mix(bg, ink, 0.65)
    image = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(image)
    unit = min(width, height) / 360  # 1.0 on a 640x360 frame
    pad = round(22 * unit)

    # Scene pill, top left.
    pill_font = _font(round(14 * unit), bold=True)
    pill = f"Scene {number}" + (f" / {total}" if total else "")
    pill_w = _text_width(pill_font, pill) + 2 * round(10 * unit)
    pill_h = round(26 * unit)
    draw.rounded_rectangle((pad, pad, pad + pill_w, pad + pill_h), radius=pill_h // 2,
                           fill=_mix(bg, ink, 0.18))
    _draw_text(draw, (pad + pill_w / 2, pad + pill_h / 2), pill, pill_font, ink, anchor="mm")

    # Avatar badge and name.
    name = clean_text(scene.avatar_name) or "Avatar"
    badge_r = round(26 * unit)
    top = pad + pill_h + round(22 * unit)
    cx, cy = pad + badge_r, top + badge_r
    draw.ellipse((cx - badge_r, cy - badge_r, cx + badge_r, cy + badge_r), fill=_mix(bg, ink, 0.85))
    _draw_text(draw, (cx, cy), _initials(name), _font(round(20 * unit), bold=True), bg, anchor="mm")
    name_x = cx + badge_r + round(14 * unit)
    for points in (34, 28, 22):  # shrink long names before truncating them
        name_font = _font(round(points * unit), bold=True)
        if _text_width(name_font, name) <= width - name_x - pad:
            break
    _draw_text(draw, (name_x, cy), _fit_line(name_font, name, width - name_x - pad), name_font, ink, anchor="lm")

    # Script, wrapped into the remaining space above the footer.
    script_font = _font(round(18 * unit))
    line_h = round(26 * unit)
    script_top = cy + badge_r + round(22 * unit)
    footer_top = height - pad - round(16 * unit)
    max_lines = max(1, (footer_top - script_top - round(8 * unit)) // line_h)
    script = clean_text(scene.script)
    lines = _wrap(script_font, f"“{script}”", width - 2 * pad, max_lines) if script else ["(no script)"]
    for i, line in enumerate(lines):
        _draw_text(draw, (pad, script_top + i * line_h), line, script_font, ink)

    # Footer: sandbox label left, caption right.
    small = _font(round(12 * unit))
    _draw_text(draw, (pad, height - pad), SANDBOX_LABEL, small, soft, anchor="ls")
    if caption:
        _draw_text(draw, (width - pad, height - pad), caption, small, soft, anchor="rs")
    return image


def render_thumbnail(path: Path, scene: SceneMedia, aspect_ratio: str = "16:9") -> None:
    """Write a JPEG of the first scene's frame (640 px long side) to ``path``.

    Raises ValueError for an unsupported ``aspect_ratio``.
    """
    image = _scene_frame(scene, 1, None, frame_size(aspect_ratio), "")
    with _atomic_target(path) as tmp:
        image.save(tmp, format="JPEG", quality=85)


# --------------------------------------------------------------------------------------------------
# Speech-like tones


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")


def _tone(text: str, n_samples: int, base_hz: float, rng: np.random.Generator) -> np.ndarray:
    """Float samples in [-1, 1]: one gliding, harmonic-rich syllable burst per word, pauses between.

    Word lengths are proportional to their character counts; punctuation adds a longer pause.
    """
    out = np.zeros(n_samples, dtype=np.float64)
    words = clean_text(text).split()
    if not words or n_samples == 0:
        return out
    weights = [len(w) + 1.5 + (2.5 if w[-1] in ".,;:!?…。，！？" else 0.0) for w in words]
    total = sum(weights)
    start = 0.0
    for word, weight in zip(words, weights, strict=True):
        span = weight / total * n_samples
        gap = min(span * 0.3, SAMPLE_RATE * (0.16 if word[-1] in ".,;:!?…。，！？" else 0.05))
        a, b = int(start), int(start + span - gap)
        start += span
        if b - a < 8:
            continue
        t = np.arange(b - a) / SAMPLE_RATE
        pitch = base_hz * rng.uniform(0.85, 1.2)
        glide = pitch * (1 + rng.uniform(-0.12, 0.12) * t / max(t[-1], 1e-6))
        vibrato = 1 + 0.015 * np.sin(2 * np.pi * rng.uniform(4, 6) * t)
        phase = 2 * np.pi * np.cumsum(glide * vibrato) / SAMPLE_RATE
        wave_ = np.sin(phase) + 0.35 * np.sin(2 * phase) + 0.12 * np.sin(3 * phase)
        envelope = np.sin(np.pi * np.linspace(0, 1, b - a)) ** 0.6  # soft attack and release
        out[a:b] = wave_ / 1.47 * envelope * rng.uniform(0.6, 1.0)
    return out


def _write_wav(path: Path, samples: np.ndarray, amplitude: float = 0.28) -> None:
    pcm = np.clip(samples * amplitude * 32767, -32768, 32767).astype("<i2")
    with _atomic_target(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def _n_samples(duration_s: float) -> int:
    if not duration_s >= 0:  # also rejects NaN
        raise ValueError(f"duration_s must be >= 0 seconds, got {duration_s!r}")
    return round(duration_s * SAMPLE_RATE)


def _speech_samples(text: str, duration_s: float) -> np.ndarray:
    seed = _seed(text)
    base_hz = 150 + seed % 70  # 150–219 Hz
    return _tone(text, _n_samples(duration_s), base_hz, np.random.default_rng(seed))


def synth_speech(path: Path, text: str, duration_s: float) -> float:
    """Write a speech-like WAV (22,050 Hz, mono, 16-bit) of ``text`` lasting exactly ``duration_s``.

    Each word is a soft tone whose pitch and loudness differ per word (deterministic for the same
    text); empty text gives silence. Returns the written duration in seconds (``duration_s`` rounded
    to a whole sample). Raises ValueError for a negative or NaN duration.
    """
    samples = _speech_samples(text, duration_s)
    _write_wav(path, samples)
    return len(samples) / SAMPLE_RATE


def preview_audio(path: Path, name: str, duration_s: float = 3.0) -> None:
    """Write a voice-preview WAV (22,050 Hz mono 16-bit, ``duration_s`` seconds) for voice ``name``.

    The pitch range and rhythm are seeded by ``name``, so different voices sound different.
    """
    seed = _seed("voice:" + name)
    phrase = f"Hello, I am {name or 'your voice'}. This is how I sound in a reel."
    base_hz = 110 + seed % 150  # 110–259 Hz
    samples = _tone(phrase, _n_samples(duration_s), base_hz, np.random.default_rng(seed))
    _write_wav(path, samples)


# --------------------------------------------------------------------------------------------------
# Video and subtitles


def _segment_lengths(scenes: list[SceneMedia]) -> list[float]:
    """Seconds of video per scene, whole frames at FPS, at least MIN_SCENE_S; a scene with its own
    recording is rounded up, so none of the recording is cut."""
    def frames(scene: SceneMedia) -> int:
        exact = max(MIN_SCENE_S, float(scene.duration_s or 0)) * FPS
        return max(math.ceil(exact - 1e-6) if scene.audio_file else round(exact), 1)

    return [frames(s) / FPS for s in scenes]


def decode_audio(path: str | Path, duration_s: float) -> np.ndarray:
    """Float samples in [-1, 1] (mono, SAMPLE_RATE) of an audio file, cut or padded with silence to
    ``duration_s`` seconds. Raises MediaError when ffmpeg cannot decode it."""
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
           "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaError(f"could not decode {Path(path).name}: {exc}") from exc
    if proc.returncode != 0:
        raise MediaError(f"ffmpeg could not decode {Path(path).name}: "
                         f"{_tail(proc.stderr.decode('utf-8', 'replace'))}")
    samples = np.frombuffer(proc.stdout[: len(proc.stdout) // 2 * 2], dtype="<i2").astype(np.float64) / 32768
    wanted = _n_samples(duration_s)
    return np.pad(samples[:wanted], (0, max(0, wanted - len(samples))))


def _scene_audio(scene: SceneMedia, seconds: float) -> np.ndarray:
    """The scene's own recording (at full level) or its synthesised tone (scaled on write)."""
    if scene.audio_file:
        return decode_audio(scene.audio_file, seconds) / 0.28
    return _speech_samples(scene.script, seconds)


def render_video(path: Path, scenes: list[SceneMedia], *, aspect_ratio: str = "16:9",
                 resolution: str = "720p") -> float:
    """Render a playable H.264 MP4 (yuv420p, +faststart) with an AAC speech-like tone track.

    One still segment per scene lasting ``duration_s`` seconds (at least 0.5 s), drawn at 640 px on
    the long side in ``aspect_ratio`` (16:9, 9:16, 1:1, 4:5, 5:4, "auto" = 16:9) at 12 fps;
    ``resolution`` (e.g. "720p", "1080p", "4k") is only shown in a caption. Returns the probed
    duration in seconds. Raises ValueError for no scenes or an unsupported aspect ratio, MediaError
    if ffmpeg fails (message includes the end of ffmpeg's stderr).
    """
    if not scenes:
        raise ValueError("render_video needs at least one scene")
    size = frame_size(aspect_ratio)
    ratio = "16:9" if aspect_ratio in ("", "auto") else aspect_ratio
    caption = f"{resolution} · {ratio}" if resolution else ratio
    lengths = _segment_lengths(scenes)
    total = sum(lengths)
    with tempfile.TemporaryDirectory(prefix="reel-media-") as work, _atomic_target(path) as tmp:
        work_dir = Path(work)
        listing = []
        for i, (scene, seconds) in enumerate(zip(scenes, lengths, strict=True), start=1):
            frame = work_dir / f"scene{i:03d}.png"
            _scene_frame(scene, i, len(scenes), size, caption).save(frame, compress_level=1)
            listing.append(f"file '{frame.name}'\nduration {seconds:.6f}\n")
        # The concat demuxer ignores the last entry's duration unless the file is listed again.
        listing.append(f"file 'scene{len(scenes):03d}.png'\n")
        (work_dir / "frames.txt").write_text("".join(listing), encoding="utf-8")
        audio = np.concatenate([_scene_audio(s, sec) for s, sec in zip(scenes, lengths, strict=True)])
        _write_wav(work_dir / "speech.wav", audio)
        _run_ffmpeg([
            "-y", "-loglevel", "error",
            "-f", "concat", "-safe", "0", "-i", str(work_dir / "frames.txt"),
            "-i", str(work_dir / "speech.wav"),
            "-map", "0:v:0", "-map", "1:a:0",
            "-vf", f"fps={FPS},format=yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-crf", "30",
            "-g", str(FPS * 10),
            "-c:a", "aac", "-b:a", "48k", "-ac", "1",
            "-t", f"{total:.3f}", "-movflags", "+faststart", "-f", "mp4", str(tmp),
        ], "rendering a sandbox video")
        duration = probe_duration(tmp)
    return duration


_CUE_SPLIT_RE = re.compile(r"(?<=[.!?…;])\s+|(?<=[。！？；])\s*")
MAX_CUE_CHARS = 84
"""Longest subtitle cue, in characters, before a sentence is split at a comma or word boundary."""


def _cue_texts(script: str) -> list[str]:
    """Split a script into sentence cues; long sentences split at commas, then word boundaries."""
    text = clean_text(script)
    if not text:
        return []
    cues: list[str] = []
    for sentence in (s.strip() for s in _CUE_SPLIT_RE.split(text)):
        if not sentence:
            continue
        pieces = [sentence] if len(sentence) <= MAX_CUE_CHARS else re.split(r"(?<=[,，、:：])\s*", sentence)
        for piece in filter(None, (p.strip() for p in pieces)):
            cues.extend(_split_evenly(piece))
    return cues


def _split_evenly(text: str) -> list[str]:
    """Split ``text`` into the fewest near-equal parts of at most MAX_CUE_CHARS, at spaces if possible."""
    parts: list[str] = []
    while len(text) > MAX_CUE_CHARS:
        target = len(text) // -(-len(text) // MAX_CUE_CHARS)  # length of each of ceil(n / max) parts
        cut = text.rfind(" ", 0, target + 1)
        if cut < target // 2:
            cut = text.find(" ", target)
            cut = cut if 0 < cut <= MAX_CUE_CHARS else target
        parts.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*parts, text] if text else parts


def _srt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def write_srt(path: Path, scenes: list[SceneMedia]) -> None:
    """Write SRT subtitles (UTF-8) matching ``render_video``'s timing.

    Each scene's script becomes one or more cues (sentences; long ones split at commas or words), spread
    over the scene's segment in proportion to their character counts; a scene with an empty script gets
    no cue. Timestamps are HH:MM:SS,mmm and never overlap.
    """
    blocks: list[str] = []
    offset = 0.0
    for scene, seconds in zip(scenes, _segment_lengths(scenes), strict=True):
        texts = _cue_texts(scene.script)
        total_chars = sum(len(t) for t in texts)
        start = offset
        for text in texts:
            end = start + seconds * len(text) / total_chars
            blocks.append(f"{len(blocks) + 1}\n{_srt_time(start)} --> {_srt_time(end)}\n{text}\n")
            start = end
        offset += seconds
    with _atomic_target(path) as tmp:
        tmp.write_text("\n".join(blocks), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Avatar look placeholders


def preview_image(path: Path, title: str, subtitle: str = "", orientation: str = "landscape") -> None:
    """Write a JPEG placeholder for an avatar look: a friendly silhouette on a colour from ``title``.

    Sizes in pixels: landscape 480x270, portrait 270x480, square 360x360. The title (name) and the
    subtitle (e.g. look type) are written in a band at the bottom. Raises ValueError for an unknown
    ``orientation``.
    """
    if orientation not in _PREVIEW_SIZES:
        raise ValueError(f"orientation must be one of {sorted(_PREVIEW_SIZES)}, got {orientation!r}")
    with _DRAW_LOCK:
        image = _draw_preview(title, subtitle, _PREVIEW_SIZES[orientation])
    with _atomic_target(path) as tmp:
        image.save(tmp, format="JPEG", quality=85)


def preview_video(path: Path, title: str, subtitle: str = "", orientation: str = "landscape",
                  duration_s: float = 3.0) -> None:
    """Write a short H.264 MP4 preview of an avatar look: its placeholder image with a tone, ``duration_s`` s.

    Same picture and sizes as :func:`preview_image` (yuv420p, 12 fps, +faststart, AAC mono). Raises ValueError
    for an unknown ``orientation``, MediaError if ffmpeg fails.
    """
    if orientation not in _PREVIEW_SIZES:
        raise ValueError(f"orientation must be one of {sorted(_PREVIEW_SIZES)}, got {orientation!r}")
    with _DRAW_LOCK:
        image = _draw_preview(title, subtitle, _PREVIEW_SIZES[orientation])
    with tempfile.TemporaryDirectory(prefix="reel-media-") as work, _atomic_target(path) as tmp:
        still, audio = Path(work) / "still.png", Path(work) / "voice.wav"
        image.save(still, compress_level=1)
        _write_wav(audio, _speech_samples(title or "preview", duration_s))
        _run_ffmpeg([
            "-y", "-loglevel", "error", "-loop", "1", "-framerate", str(FPS), "-i", str(still), "-i", str(audio),
            "-map", "0:v:0", "-map", "1:a:0", "-vf", "format=yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "stillimage", "-crf", "30",
            "-c:a", "aac", "-b:a", "48k", "-ac", "1",
            "-t", f"{duration_s:.3f}", "-movflags", "+faststart", "-f", "mp4", str(tmp),
        ], "rendering a look preview video")


def _draw_preview(title: str, subtitle: str, size: tuple[int, int]) -> Image.Image:
    width, height = size
    base = _colour_for(title)
    top, bottom = _mix(base, (255, 255, 255), 0.18), _mix(base, (0, 0, 0), 0.25)
    gradient = np.linspace(0, 1, height)[:, None, None]
    pixels = np.array(top)[None, None, :] * (1 - gradient) + np.array(bottom)[None, None, :] * gradient
    image = Image.fromarray(np.repeat(pixels, width, axis=1).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)

    band_h = round(min(width, height) * 0.27)
    band_top = height - band_h
    figure = _mix(base, (255, 255, 255), 0.72)
    head_r = round(min(width * 0.9, band_top) * 0.23)
    cx = width // 2
    cy = round(band_top * 0.44)
    shoulder_w = round(head_r * 2.4)
    shoulder_top = cy + head_r * 1.15
    shoulder_bottom = max(shoulder_top + shoulder_w * 1.6, band_top + shoulder_w)  # bottom hidden by the band
    draw.ellipse((cx - shoulder_w, shoulder_top, cx + shoulder_w, shoulder_bottom), fill=figure)
    draw.ellipse((cx - head_r - 6, cy - head_r - 6, cx + head_r + 6, cy + head_r + 6), fill=top)
    draw.ellipse((cx - head_r, cy - head_r, cx + head_r, cy + head_r), fill=figure)
    name = clean_text(title) or "Avatar"
    _draw_text(draw, (cx, cy), _initials(name), _font(round(head_r * 0.8), bold=True), base, anchor="mm")

    draw.rectangle((0, band_top, width, height), fill=_mix(base, (0, 0, 0), 0.55))
    pad = round(band_h * 0.16)
    title_font = _font(round(band_h * 0.3), bold=True)
    sub_font = _font(round(band_h * 0.2))
    sub = clean_text(subtitle)
    title_y = band_top + (band_h * (0.40 if sub else 0.52))
    _draw_text(draw, (pad, title_y), _fit_line(title_font, name, width - 2 * pad), title_font,
               (255, 255, 255), anchor="lm")
    if sub:
        _draw_text(draw, (pad, band_top + band_h * 0.74), _fit_line(sub_font, sub, width - 2 * pad), sub_font,
                   _mix(base, (255, 255, 255), 0.8), anchor="lm")
    return image
