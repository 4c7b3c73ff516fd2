"""Sandbox media: real MP4/JPEG/SRT/WAV files with the right streams, shapes and timings."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from core.sandbox import media
from core.sandbox.media import MediaError, SceneMedia

SCENES = [
    SceneMedia("Abigail", "Welcome to the spring collection! Three new products today.", 2.0, "#F4E1C1"),
    SceneMedia("Daniel", "First, the light jacket. It folds into its own pocket, weighs 200 g, and keeps "
               "the rain out on the longest walks you can imagine taking this year.", 1.5),
    SceneMedia("Monica", "Thanks for watching.", 1.2, "#0B6E4F"),
]
TRICKY = [
    SceneMedia("😀 Emoji", "Launch day 🚀🎉 — let's go! 👩🏽‍💻", 0.6),
    SceneMedia("مريم", "مرحبا بكم في عرضنا الجديد. שלום עולם!", 0.7, "#zzzzzz"),
    SceneMedia("", "", 0.0, None),
    SceneMedia("Ctl\x00\x07", "Null\x00 and\r\nnewlines\ttabs " + "averyveryverylongwordwithoutspaces" * 20, 0.5),
]


def ffmpeg_info(path: Path) -> str:
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    return proc.stderr


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for number, block in enumerate(text.strip().split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        match = re.fullmatch(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", lines[1])
        assert match, lines[1]
        assert lines[2].strip()
        cues.append((seconds(match.group(1)), seconds(match.group(2)), " ".join(lines[2:])))
    return cues


@pytest.mark.parametrize(("ratio", "expected"), [("16:9", 16 / 9), ("9:16", 9 / 16), ("1:1", 1.0), ("auto", 16 / 9)])
def test_render_video_is_h264_aac_in_ratio_and_duration(tmp_path, ratio, expected):
    out = tmp_path / "nested" / "reel.mp4"
    duration = media.render_video(out, SCENES, aspect_ratio=ratio, resolution="1080p")

    info = ffmpeg_info(out)
    video = re.search(r"Stream #\S+.*Video: h264.*?yuv420p.*?, (\d+)x(\d+)", info)
    assert video, info
    width, height = int(video.group(1)), int(video.group(2))
    assert width / height == pytest.approx(expected, rel=0.02)
    assert max(width, height) <= 1280
    assert re.search(r"Stream #\S+.*Audio: aac", info), info
    total = sum(s.duration_s for s in SCENES)
    assert duration == pytest.approx(total, abs=0.3)
    assert media.probe_duration(out) == pytest.approx(total, abs=0.3)
    assert [p.name for p in out.parent.iterdir()] == ["reel.mp4"]  # no temporary files left behind


def test_render_video_with_tricky_text_and_short_scenes(tmp_path):
    out = tmp_path / "tricky.mp4"
    duration = media.render_video(out, TRICKY, aspect_ratio="4:5")
    # Every segment lasts at least 0.5 s.
    assert duration == pytest.approx(0.6 + 0.7 + 0.5 + 0.5, abs=0.3)
    assert "Video: h264" in ffmpeg_info(out)


def test_render_video_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="aspect ratio"):
        media.render_video(tmp_path / "x.mp4", SCENES, aspect_ratio="21:9")
    with pytest.raises(ValueError):
        media.render_video(tmp_path / "x.mp4", [])
    assert not (tmp_path / "x.mp4").exists()


def test_ffmpeg_failure_raises_media_error_with_stderr(tmp_path):
    with pytest.raises(MediaError, match="exit"):
        media._run_ffmpeg(["-i", str(tmp_path / "missing.png"), str(tmp_path / "out.mp4")], "testing")


@pytest.mark.parametrize(("ratio", "portrait"), [("16:9", False), ("9:16", True), ("5:4", False)])
def test_thumbnail_is_jpeg_in_orientation(tmp_path, ratio, portrait):
    out = tmp_path / "thumbs" / "t.jpg"
    media.render_thumbnail(out, SCENES[0], ratio)
    with Image.open(out) as image:
        assert image.format == "JPEG"
        assert (image.height > image.width) is portrait


def test_srt_cues_are_monotonic_and_cover_the_video(tmp_path):
    out = tmp_path / "subs" / "reel.srt"
    media.write_srt(out, SCENES)
    cues = srt_cues(out.read_text(encoding="utf-8"))

    assert len(cues) >= 5  # 2 sentences + a long sentence split in 2+ + 1
    assert cues[0][0] == 0.0
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:], strict=False):
        assert start < end <= next_start
    assert cues[-1][1] == pytest.approx(sum(s.duration_s for s in SCENES), abs=0.1)
    assert cues[-1][2] == "Thanks for watching."
    assert all(len(text) <= media.MAX_CUE_CHARS for _, _, text in cues)
    joined = " ".join(text for _, _, text in cues)
    assert "rain out on the longest walks" in joined


def test_srt_with_tricky_scripts_skips_empty_scenes(tmp_path):
    out = tmp_path / "tricky.srt"
    media.write_srt(out, TRICKY)
    cues = srt_cues(out.read_text(encoding="utf-8"))
    assert "🚀" in cues[0][2]
    assert any("مرحبا" in text for _, _, text in cues)
    assert all("\x00" not in text for _, _, text in cues)
    assert cues[-1][1] == pytest.approx(0.6 + 0.7 + 0.5 + 0.5, abs=0.1)


@pytest.mark.parametrize("text", ["Hello there, this is a test of the voice.", "", "こんにちは 😀"])
def test_synth_speech_has_exact_length_and_format(tmp_path, text):
    out = tmp_path / "speech" / "a.wav"
    assert media.synth_speech(out, text, 2.5) == 2.5
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (22_050, 1, 2)
        assert wav.getnframes() == round(2.5 * 22_050)
        frames = wav.readframes(wav.getnframes())
    assert any(frames) is bool(text)  # words make sound, an empty script is silence
    assert media.probe_duration(out) == 2.5


def test_synth_speech_rejects_negative_duration(tmp_path):
    with pytest.raises(ValueError):
        media.synth_speech(tmp_path / "a.wav", "hi", -1)


def test_preview_audio_differs_per_voice(tmp_path):
    media.preview_audio(tmp_path / "a.wav", "Derya")
    media.preview_audio(tmp_path / "b.wav", "Ken")
    assert media.probe_duration(tmp_path / "a.wav") == 3.0
    assert (tmp_path / "a.wav").read_bytes() != (tmp_path / "b.wav").read_bytes()


@pytest.mark.parametrize(("orientation", "size"), [("landscape", (480, 270)), ("portrait", (270, 480)),
                                                     ("square", (360, 360))])
def test_preview_image_sizes(tmp_path, orientation, size):
    out = tmp_path / "looks" / f"{orientation}.jpg"
    media.preview_image(out, "Abigail Upper Body", "Studio avatar", orientation)
    with Image.open(out) as image:
        assert image.format == "JPEG"
        assert image.size == size


def test_preview_image_colour_follows_title_and_odd_text_is_safe(tmp_path):
    for name, title in [("a", "Abigail"), ("b", "Abigail"), ("c", "Bruno"), ("d", "😀 مرحبا"), ("e", "")]:
        media.preview_image(tmp_path / f"{name}.jpg", title, "👩🏽‍💻 \x00")
    pixel = {n: Image.open(tmp_path / f"{n}.jpg").getpixel((5, 5)) for n in "abc"}
    assert pixel["a"] == pixel["b"] != pixel["c"]
    with pytest.raises(ValueError):
        media.preview_image(tmp_path / "x.jpg", "A", orientation="diagonal")


def test_probe_duration_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        media.probe_duration(tmp_path / "nope.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(MediaError):
        media.probe_duration(junk)
