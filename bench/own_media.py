"""Own media: what checking a recording costs by its length, and what a streamed upload costs in memory.

Figures (medians of alternating runs):

- ``check_5s`` / ``check_10min`` / ``check_2h``: seconds :func:`core.reels.media_checks.check_scene_audio`
  takes for a 5-second WAV, a 10-minute MP3 and a 2-hour MP3 (refused; 20 minutes with ``--small``).
  Target: the 2-hour file costs at most 1.3× the 10-minute one (decoding stops after 601 s of audio).
- ``upload_rss_delta_mb``: growth of this process's resident memory while ``POST /v3/assets`` streams a
  30 MB file to a sandbox in another process (psutil, sampled every 10 ms). Target: under 10 MB (the file
  is never read into memory).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np
import psutil
from _common import SANDBOX_KEY, SandboxProcess, figure, median, parser

from core.reels.media_checks import MediaRejected, check_scene_audio


def wav(seconds: float, rate: int = 16_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 220 * t) * 9000).astype("<i2").tobytes())
    return buf.getvalue()


def long_mp3(seconds: int) -> bytes:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
           "anullsrc=r=8000:cl=mono", "-t", str(seconds), "-c:a", "libmp3lame", "-b:a", "8k", "-f", "mp3", "pipe:1"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def timed_check(data: bytes, name: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(MediaRejected):  # the 2-hour file is refused, as it should be
        check_scene_audio(data, name)
    return time.perf_counter() - start


def upload_rss_delta(size_mb: int) -> float:
    """MB of resident memory gained while streaming a ``size_mb`` file to a sandbox subprocess."""
    from core.heygen import HeyGenClient

    work = Path(tempfile.mkdtemp(prefix="bench-media-"))
    path = work / "big.wav"
    with path.open("wb") as fh:  # written in 1 MB blocks: never in memory at once
        fh.write(wav(1.0)[:44])
        block = np.random.default_rng(1).integers(-9000, 9000, 512 * 1024, dtype="<i2").tobytes()
        for _ in range(size_mb):
            fh.write(block)
    with SandboxProcess(state_dir=str(work / "sandbox"), api_keys=[SANDBOX_KEY]) as sandbox:
        client = HeyGenClient(SANDBOX_KEY, sandbox.url)
        me = psutil.Process()
        base, peak, done = me.memory_info().rss, [me.memory_info().rss], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak.append(me.memory_info().rss)
                time.sleep(0.01)

        watcher = threading.Thread(target=sample)
        watcher.start()
        try:
            client.upload_asset(path, filename="big.wav", content_type="audio/wav")
        finally:
            done.set()
            watcher.join()
    return (max(peak) - base) / 1_048_576


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    rounds = 1 if args.small else 5
    files = {"5s": (wav(5.0), "five.wav"), "10min": (long_mp3(600), "ten.mp3"),
             "2h": (long_mp3(1200 if args.small else 7200), "long.mp3")}
    times: dict[str, list[float]] = {k: [] for k in files}
    for i in range(rounds):
        order = list(files) if i % 2 == 0 else list(reversed(files))
        for key in order:
            times[key].append(timed_check(*files[key]))
    medians = {k: median(v) for k, v in times.items()}
    for key, value in medians.items():
        figure(f"check_{key}", f"{value:.3f} s")
    ratio = medians["2h"] / medians["10min"]
    figure("ratio_2h_to_10min", f"{ratio:.2f}")
    delta = upload_rss_delta(4 if args.small else 30)
    figure("upload_rss_delta_mb", f"{delta:.1f}")
    ok = ratio <= 1.3 and delta < 10
    figure("RESULT", f"{'met' if ok else 'missed'} (2h/10min {ratio:.2f} ≤ 1.3, upload RSS +{delta:.1f} MB < 10)")


if __name__ == "__main__":
    main()
