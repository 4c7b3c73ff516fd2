"""The archive on S3: moto's standalone server on loopback stands in for the bucket; the sandbox for HeyGen."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import requests

from core.access.actor import worker_actor
from core.jobs import archive
from core.jobs.archive_store import build_store
from tests.engine.test_jobs_worker import client_for, launched, make_worker, run_until
from tests.fixtures.s3 import SECRET_KEY

BUCKET = "reel-archive"


@pytest.fixture
def done(session_factory, sandbox, catalog_index):
    worker = make_worker(session_factory, sandbox, catalog_index)
    reel = run_until(worker, session_factory, launched(session_factory, catalog_index, captions=True))
    assert reel.status == "completed"
    return reel


def s3_store(moto_s3, tmp_path, *, create_bucket=True):
    store = build_store(moto_s3.settings(f"s3://{BUCKET}/team", data_dir=tmp_path))
    if create_bucket:
        store.fs.mkdir(BUCKET)
    return store


def bucket_keys(store) -> list[str]:
    store.fs.invalidate_cache()
    return sorted(path.removeprefix(f"{BUCKET}/") for path in store.fs.find(BUCKET))


def test_archives_to_s3_with_one_object_per_file_and_plays_from_a_presigned_url(
        session_factory, sandbox, done, moto_s3, tmp_path) -> None:
    store = s3_store(moto_s3, tmp_path)
    outcome = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"))
    assert outcome.state == "archived", outcome.reason
    again = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"), force=True)
    assert again.copied == 0
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    assert bucket_keys(store) == sorted(f"team/{f.key}" for f in view.files.values())  # exactly one each
    assert not any(store.spool_dir.glob("*"))  # spool files are removed once uploaded
    url = store.browser_url(view.files["video"].key, expires_s=60)
    assert url.startswith(moto_s3.endpoint) and ("X-Amz-Expires=60" in url or "Expires=" in url)
    body = requests.get(url, timeout=10).content
    source = sandbox.sandbox.files_dir / done.video_id / "video.mp4"
    assert hashlib.sha256(body).hexdigest() == view.files["video"].sha256 == hashlib.sha256(
        source.read_bytes()).hexdigest()
    assert view.width and view.height  # probed from the spool before the upload


def test_s3_down_fails_with_the_reason_and_is_retried(session_factory, sandbox, done, moto_s3, tmp_path) -> None:
    store = s3_store(moto_s3, tmp_path)
    moto_s3.stop()
    failed = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"))
    assert failed.state == "failed"
    assert failed.reason.startswith(f"Could not read the archive at s3://{BUCKET}/team") or \
        failed.reason.startswith(f"Could not write the archive at s3://{BUCKET}/team")
    assert SECRET_KEY not in failed.reason and moto_s3.endpoint not in failed.reason
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    assert view.state == "failed" and view.next_try_at is not None
    moto_s3.start()
    store.fs.mkdir(BUCKET)  # a fresh moto server starts empty
    later = lambda: view.next_try_at + timedelta(seconds=1)  # noqa: E731
    retried = archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"), clock=later)
    assert retried.state == "archived", retried.reason
    assert len(bucket_keys(store)) == retried.copied


def test_the_secret_never_shows_in_the_store_repr(moto_s3, tmp_path) -> None:
    store = s3_store(moto_s3, tmp_path, create_bucket=False)
    assert SECRET_KEY not in repr(store) and SECRET_KEY not in store.label
    assert SECRET_KEY not in repr(moto_s3.settings("s3://x"))


def test_videos_play_from_a_presigned_link_and_fall_back_to_heygen_before_archiving(
        session_factory, sandbox, done, moto_s3, tmp_path) -> None:
    from core.board.videos import media, video_details

    store = s3_store(moto_s3, tmp_path)
    with session_factory() as session:
        before = video_details(session, done.id)
    heygen = media(store, before, "video")
    assert (heygen.source, heygen.url) == ("heygen", done.video_url) and not before.measured
    archive.archive_reel(session_factory, store, client_for(sandbox), done.id, actor=worker_actor("t"))
    with session_factory() as session:
        after = video_details(session, done.id)
    played = media(store, after, "video", expires_s=60)
    saved = media(store, after, "video", expires_s=60, download_name="Welcome.mp4")
    assert played.source == "archive" and played.path is None and played.url.startswith(moto_s3.endpoint)
    answer = requests.get(saved.url, timeout=10)
    assert hashlib.sha256(answer.content).hexdigest() == played.sha256
    assert answer.headers["Content-Disposition"] == 'attachment; filename="Welcome.mp4"'
    assert after.measured and after.size_bytes == played.size_bytes
