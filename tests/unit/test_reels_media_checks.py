"""Own files are checked from their content: type, size, length, silence, photo size and integrity."""

from __future__ import annotations

import io
import subprocess
import wave

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from core.reels.media_checks import (
    MAX_UPLOAD_BYTES,
    MediaRejected,
    check_photo,
    check_scene_audio,
    check_voice_sample,
    clean_name,
)


def wav(seconds: float, rate: int = 22_050, amplitude: float = 0.3) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 220 * t) * amplitude * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def image(width: int, height: int, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(buf, format=fmt)
    return buf.getvalue()


def mp3_of_silence(seconds: int) -> bytes:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           "anullsrc=r=8000:cl=mono", "-t", str(seconds), "-c:a", "libmp3lame", "-b:a", "8k", "-f", "mp3", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def test_scene_audio_length_comes_from_the_samples():
    checked = check_scene_audio(wav(4.25), "line.wav")
    assert checked.duration_s == pytest.approx(4.25, abs=0.01)
    assert (checked.format, checked.mime_type, checked.warnings) == ("wav", "audio/wav", ())


def test_mp3_is_measured_too():
    checked = check_scene_audio(mp3_of_silence(3), "take.mp3")
    # MP3 frames pad the end (encoder delay), so the decoded length is a little over 3 s
    assert checked.format == "mp3" and checked.duration_s == pytest.approx(3.0, abs=0.25)
    assert any("silent" in w for w in checked.warnings)


def test_silence_only_is_a_warning_not_a_refusal():
    checked = check_scene_audio(wav(2.0, amplitude=0.0), "quiet.wav")
    assert checked.duration_s == pytest.approx(2.0, abs=0.01)
    assert checked.warnings and "silent" in checked.warnings[0]


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"", "empty.wav", "is empty"),
    (b"\0" * (MAX_UPLOAD_BYTES + 1), "huge.wav", "at most 32 MB"),
    (image(300, 300, "PNG"), "line.wav", "is a PNG image"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\xff" * 64, "broken.wav", "could not be read"),
    (wav(0.4), "short.wav", "at least 1 s"),
], ids=["zero-length", "33-MB", "png-named-wav", "corrupt", "too-short"])
def test_bad_scene_audio_gets_one_clear_sentence(data, name, words):
    with pytest.raises(MediaRejected) as err:
        check_scene_audio(data, name)
    message = str(err.value)
    assert words in message and message.count(".") >= 1 and "\n" not in message


def test_a_two_hour_recording_is_refused_without_decoding_it_all():
    data = mp3_of_silence(7200)
    assert len(data) < MAX_UPLOAD_BYTES
    with pytest.raises(MediaRejected) as err:
        check_scene_audio(data, "podcast.mp3")
    assert "over 10 min" in str(err.value) and "at most 10 minutes" in str(err.value)


def test_an_extension_that_claims_another_type_is_refused():
    with pytest.raises(MediaRejected) as err:
        check_scene_audio(mp3_of_silence(2), "take.wav")
    assert "named .wav" in str(err.value) and "MP3 audio" in str(err.value)


def test_voice_sample_bounds_and_recommendation():
    with pytest.raises(MediaRejected):
        check_voice_sample(wav(5.0), "me.wav")
    short = check_voice_sample(wav(15.0), "me.wav")
    assert any("30 s to 3 min" in w for w in short.warnings)
    assert check_voice_sample(wav(45.0, rate=8000), "me.wav").warnings == ()


def test_photo_checks():
    checked = check_photo(image(400, 600), "me.jpg")
    assert (checked.width, checked.height, checked.format) == (400, 600, "jpeg")
    for data, name, words in [
        (image(10, 10), "tiny.jpg", "10 × 10 px"),
        (image(400, 400)[:600], "cut.jpg", "damaged or incomplete"),
        (wav(1.0), "me.jpg", "is WAV audio"),
        (b"", "none.png", "is empty"),
    ]:
        with pytest.raises(MediaRejected) as err:
            check_photo(data, name)
        assert words in str(err.value), name


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\ünï côdé.wav", "ünï côdé.wav"),
    ("a\x00b\x1f.wav", "ab.wav"),
    ("../", "upload"),
    ("x" * 300 + ".wav", "x" * 116 + ".wav"),
])
def test_file_names_lose_folders_and_control_characters(raw, clean):
    assert clean_name(raw) == clean
