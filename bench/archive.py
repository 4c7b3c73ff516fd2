"""Archive throughput and memory: one large video file copied from the sandbox into the archive store.

The sandbox runs in its own process and serves a completed video whose MP4 has been replaced by a file
of random bytes (200 MB; 20 MB with ``--small``). Two ways of copying the same URL alternate in this run:

- *archive*: :func:`core.jobs.archive_download.download` (1 MiB reads, SHA-256 while writing, length check,
  fsync) plus :meth:`core.jobs.archive_store.ArchiveStore.commit` (rename into the store);
- *floor*: ``requests.get(stream=True)`` and a plain ``shutil.copyfileobj(response.raw, file)``.

Figures: median seconds and MB/s of each, the throughput ratio archive / floor (target ≥ 0.8), and the
peak RSS growth of this process during an archive copy, sampled every 5 ms with psutil, at two file
sizes (target ≤ 20 MB whatever the size).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from _common import SandboxProcess, figure, median, parser, quiet

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"
MB = 1_000_000


def make_video(url: str, state_dir: Path, size: int) -> str:
    """A completed sandbox video whose MP4 is ``size`` random bytes; returns its presigned MP4 URL."""
    import requests

    headers = {"X-Api-Key": "sandbox-local-key"}
    body = {"type": "studio", "title": "Archive bench", "scenes": [
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": AVATAR_ID, "voice_id": VOICE_ID,
                                           "script": "A short scene."}}]}
    video_id = requests.post(f"{url}/v3/videos", json=body, headers=headers, timeout=30).json()["data"]["video_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        data = requests.get(f"{url}/v3/videos/{video_id}", headers=headers, timeout=30).json()["data"]
        if data["status"] == "completed":
            break
        time.sleep(0.2)
    with (state_dir / "files" / video_id / "video.mp4").open("wb") as fh:
        for _ in range(size // MB):
            fh.write(os.urandom(MB))
    return data["video_url"]


class PeakRss:
    """Samples this process's RSS every 5 ms while active; ``growth`` is peak minus the RSS at start (bytes)."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.start = self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        self.start = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    quiet()
    import requests

    from core.jobs.archive_download import download
    from core.jobs.archive_store import ArchiveStore

    size = (20 if args.small else 200) * MB
    runs = 1 if args.small else 5
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp, SandboxProcess(
            time_scale=0.01, state_dir=str(Path(tmp) / "sandbox")) as server:
        url = make_video(server.url, Path(tmp) / "sandbox", size)
        small_url = make_video(server.url, Path(tmp) / "sandbox", size // 10)
        store = ArchiveStore(str(Path(tmp) / "archive"), spool_dir=Path(tmp) / "spool")
        http = requests.Session()

        def archived(source: str = url) -> None:
            key = "bench/video.mp4"
            got = download(source, store.spool_path(key), http=http)
            store.commit(store.spool_path(key), key)
            assert got.size_bytes == (size if source == url else size // 10)
            os.unlink(store.full_path(key))

        def floor() -> None:
            target = Path(tmp) / "floor.mp4"
            with http.get(url, stream=True, timeout=(5, 30)) as response, target.open("wb") as fh:
                shutil.copyfileobj(response.raw, fh)
            target.unlink()

        archived()  # warm-up: page cache, connection
        floor()
        times: dict[str, list[float]] = {"archive": [], "floor": []}
        for n in range(runs):
            for name, fn in ((("archive", archived), ("floor", floor)) if n % 2 == 0
                             else (("floor", floor), ("archive", archived))):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        with PeakRss() as small:
            archived(small_url)
        with PeakRss() as big:
            archived()
        http.close()

    a, f = median(times["archive"]), median(times["floor"])
    ratio = f / a
    figure("file_size", f"{size / MB:.0f} MB, {runs} alternating runs each")
    figure("archive_median", f"{a:.3f} s ({size / MB / a:,.0f} MB/s)")
    figure("floor_median", f"{f:.3f} s ({size / MB / f:,.0f} MB/s, requests + shutil.copyfileobj)")
    figure("throughput_ratio", f"{ratio:.2f} (archive / floor)")
    figure("rss_growth_large", f"{big.growth / MB:.1f} MB while archiving {size / MB:.0f} MB")
    figure("rss_growth_small", f"{small.growth / MB:.1f} MB while archiving {size / 10 / MB:.0f} MB")
    worst = max(big.growth, small.growth) / MB
    ok = ratio >= 0.8 and worst <= 20
    figure("RESULT", f"throughput {ratio:.2f}× the plain copy (target ≥ 0.8), RSS growth ≤ {worst:.1f} MB "
           f"(target ≤ 20 MB) {'PASS' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
