"""The archive under faults, against the real sandbox over loopback: a worker killed mid-download, a stalled
download, a truncated body, a full disk and a file server answering 503. Each ends with the exact source
bytes in the archive (SHA-256 compared with the sandbox's own file) or a clear ``failed`` state that is
retried later, and never with a half-written file in the store."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from core.access.actor import worker_actor
from core.jobs import archive
from core.jobs.archive_store import ArchiveStore
from core.models import utcnow
from tests.engine.test_jobs_worker import client_for, knobs, launched, make_worker, run_until

ROOT = Path(__file__).resolve().parents[2]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path) -> ArchiveStore:
    return ArchiveStore(str(tmp_path / "archive"), spool_dir=tmp_path / "spool")


@pytest.fixture
def done(session_factory, sandbox, catalog_index):
    worker = make_worker(session_factory, sandbox, catalog_index)
    reel = run_until(worker, session_factory, launched(session_factory, catalog_index))
    assert reel.status == "completed"
    return reel


class Recorder(requests.Session):
    """A session that remembers the ``Range`` header of every media request."""

    def __init__(self) -> None:
        super().__init__()
        self.ranges: list[str | None] = []
        self.hooks["response"].append(lambda r, *a, **k: self.ranges.append(r.request.headers.get("Range")))


def video_key(store, reel) -> str:
    return store.key_for(reel.video_id, "video.mp4")


def assert_exact_copy(session_factory, store, sandbox, reel) -> None:
    with session_factory() as session:
        view = archive.archive_of(session, reel.id)
    assert view.state == "archived", view.reason
    stored = store.local_path(view.files["video"].key)
    source = sandbox.sandbox.files_dir / reel.video_id / "video.mp4"
    assert sha256_of(stored) == sha256_of(source) == view.files["video"].sha256
    assert not any(store.spool_dir.glob("*")), "a partial file was left behind"


def test_a_truncated_body_is_detected_by_its_length_and_resumed(session_factory, sandbox, done, store) -> None:
    knobs(sandbox, truncate_files_next=1)
    http = Recorder()
    outcome = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"), http=http)
    assert outcome.state == "archived", outcome.reason
    size = (sandbox.sandbox.files_dir / done.video_id / "video.mp4").stat().st_size
    assert http.ranges[:2] == [None, f"bytes={size // 2}-"]  # the second request continues at the cut
    assert_exact_copy(session_factory, store, sandbox, done)


def test_a_stalled_download_times_out_and_resumes(session_factory, sandbox, done, store) -> None:
    knobs(sandbox, stall_files_next=1, stall_s=20.0)
    http = Recorder()
    outcome = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"), http=http,
                                   timeout_s=0.5)
    assert outcome.state == "archived", outcome.reason
    assert http.ranges[0] is None and http.ranges[1].startswith("bytes=") and http.ranges[1] != "bytes=0-"
    assert_exact_copy(session_factory, store, sandbox, done)


_CHILD = """
import sys
from core.access.actor import worker_actor
from core.jobs.archive import archive_reel
from core.jobs.archive_store import ArchiveStore
from core.config import SANDBOX_API_KEY
from core.db import make_engine, make_session_factory
from core.heygen import HeyGenClient
db_url, root, spool, base_url, reel_id = sys.argv[1:]
factory = make_session_factory(make_engine(db_url))
store = ArchiveStore(root, spool_dir=spool)
archive_reel(factory, store, HeyGenClient(SANDBOX_API_KEY, base_url=base_url), int(reel_id),
             actor=worker_actor("doomed"), timeout_s=120)
"""


def test_a_worker_killed_mid_download_leaves_no_corrupt_file_and_the_next_resumes(
        session_factory, sandbox, done, store, tmp_path) -> None:
    knobs(sandbox, stall_files_next=1, stall_s=120.0)  # the first download stops halfway
    db_url = session_factory.kw["bind"].url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, db_url, store.root, str(store.spool_dir), sandbox.url,
                              str(done.id)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    spool = store.spool_path(video_key(store, done))
    try:
        deadline = time.monotonic() + 60
        while not (spool.is_file() and spool.stat().st_size > 0) and time.monotonic() < deadline:
            assert child.poll() is None, "the copy ended before it could be killed"
            time.sleep(0.05)
        time.sleep(0.3)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    have = spool.stat().st_size
    assert have > 0 and store.local_path(video_key(store, done)) is None  # nothing committed, partial kept
    http = Recorder()
    after_claim = lambda: utcnow() + timedelta(seconds=archive.CLAIM_S + 1)  # noqa: E731 - the dead claim lapsed
    outcome = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("next"), http=http,
                                   clock=after_claim)
    assert outcome.state == "archived", outcome.reason
    assert f"bytes={have}-" in http.ranges
    assert_exact_copy(session_factory, store, sandbox, done)


class FullDisk:
    """An opener whose files accept ``room`` bytes in all, then raise ENOSPC like a full filesystem."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __call__(self, path: Path):
        outer = self
        fh = path.open("ab")

        class Writer:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

            def write(self, data: bytes) -> int:
                if len(data) > outer.room:
                    raise OSError(errno.ENOSPC, "No space left on device")
                outer.room -= len(data)
                return fh.write(data)

            def flush(self) -> None:
                fh.flush()

            def fileno(self) -> int:
                return fh.fileno()

        return Writer()


def test_a_full_disk_fails_clearly_leaves_nothing_and_is_retried_later(session_factory, sandbox, done,
                                                                      store) -> None:
    outcome = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"),
                                   opener=FullDisk(room=0))
    assert outcome.state == "failed" and "disk is full" in outcome.reason
    assert store.listing() == [] and not any(store.spool_dir.glob("*"))
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    assert view.state == "failed" and view.reason == outcome.reason and view.next_try_at is not None
    retry_time = lambda: view.next_try_at + timedelta(seconds=1)  # noqa: E731
    assert archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"),
                                clock=retry_time).state == "archived"
    assert_exact_copy(session_factory, store, sandbox, done)


def test_a_file_server_error_fails_with_the_reason_and_backs_off(session_factory, sandbox, done, store) -> None:
    knobs(sandbox, files_answer_next=50, files_answer_status=503)
    first = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"))
    assert first.state == "failed" and "503" in first.reason
    second = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"), force=True)
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    assert second.state == "failed" and view.tries == 2
    assert view.next_try_at - utcnow() > timedelta(seconds=archive.backoff_s(1))  # the delay doubled
    assert store.listing() == []
