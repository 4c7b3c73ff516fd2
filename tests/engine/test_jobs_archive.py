"""The archive against the real sandbox over loopback, on SQLite and PostgreSQL: a completed reel's files
are copied into a local archive folder, verified, and stay playable after HeyGen's links expire."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from core.access.actor import SYSTEM, worker_actor
from core.jobs import archive
from core.jobs.archive_download import probe
from core.jobs.archive_store import ArchiveStore
from core.jobs.archiver import Archiver, backfill
from core.models import Reel, utcnow
from core.sandbox.settings import ShiftClock
from tests.engine.test_jobs_worker import client_for, knobs, launched, make_worker, reel, run_until


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_file(server, video_id: str, name: str) -> Path:
    return server.sandbox.files_dir / video_id / name


@pytest.fixture
def clock():
    return ShiftClock()


@pytest.fixture
def server(sandbox_factory, clock):
    return sandbox_factory(clock=clock)


@pytest.fixture
def store(tmp_path) -> ArchiveStore:
    return ArchiveStore(str(tmp_path / "archive"), spool_dir=tmp_path / "spool")


def completed_reel(session_factory, server, catalog_index, **fields) -> Reel:
    worker = make_worker(session_factory, server, catalog_index)
    reel_id = launched(session_factory, catalog_index, **fields)
    done = run_until(worker, session_factory, reel_id)
    assert done.status == "completed"
    return done


def test_a_completed_reel_is_archived_within_the_cycle_that_sees_it_finish(
        session_factory, server, catalog_index, store) -> None:
    worker = make_worker(session_factory, server, catalog_index)
    worker.archiver = Archiver(session_factory, store, client_for(server), actor=worker.actor)
    reel_id = launched(session_factory, catalog_index)
    for _ in range(200):
        report = worker.run_once()
        if report.completed:
            break
        time.sleep(0.05)
    assert report.completed == 1 and report.archiving == 1  # the same cycle started the copy
    assert worker.archiver.wait(60)
    done = reel(session_factory, reel_id)
    with session_factory() as session:
        view = archive.archive_of(session, reel_id)
    assert view.state == "archived", view.reason
    expected = {"video": "video.mp4", "thumbnail": "thumbnail.jpg", "gif": "thumbnail.jpg"}
    for kind, name in expected.items():
        stored = store.local_path(view.files[kind].key)
        assert stored is not None and sha256_of(stored) == sha256_of(source_file(server, done.video_id, name))
        assert view.files[kind].sha256 == sha256_of(stored)
        assert view.files[kind].size_bytes == stored.stat().st_size
    assert view.total_bytes == sum(f.size_bytes for f in view.files.values())
    worker.stop()


def test_size_and_length_come_from_the_file_itself(session_factory, server, catalog_index, store) -> None:
    done = completed_reel(session_factory, server, catalog_index, resolution="1080p")
    archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    # ffmpeg's own view of the sandbox's source MP4, independently of the archive
    source = probe(source_file(server, done.video_id, "video.mp4"))
    assert (view.width, view.height) == (source.width, source.height)
    assert (view.width, view.height) != (1920, 1080)  # what the requested resolution would claim
    assert view.duration_s == pytest.approx(source.duration_s)


def test_it_still_plays_after_the_links_expire_and_after_a_restart(
        session_factory, server, catalog_index, store, clock, tmp_path) -> None:
    done = completed_reel(session_factory, server, catalog_index, captions=True)
    assert archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t")).state == "archived"
    clock.advance(8 * 24 * 3600)  # HeyGen's links are dead now ...
    knobs(server, expire_urls=True)  # ... and fresh ones would be dead too
    assert requests.get(done.video_url, timeout=10).status_code == 403
    restarted = ArchiveStore(str(tmp_path / "archive"), spool_dir=tmp_path / "spool")  # a new process
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
    assert "subtitles" in view.files
    for kind in view.files:
        path = restarted.local_path(view.files[kind].key)
        assert path is not None and sha256_of(path) == view.files[kind].sha256


def test_links_that_expired_before_archiving_are_refreshed(session_factory, server, catalog_index, store,
                                                           clock) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    clock.advance(8 * 24 * 3600)
    assert requests.get(done.video_url, timeout=10).status_code == 403
    outcome = archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    assert outcome.state == "archived", outcome.reason
    assert reel(session_factory, done.id).video_url != done.video_url  # fresh links were stored


def test_links_that_stay_expired_fail_with_a_reason_and_back_off(session_factory, server, catalog_index, store,
                                                                 clock) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    clock.advance(8 * 24 * 3600)
    knobs(server, expire_urls=True)
    before = utcnow()
    outcome = archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    assert outcome.state == "failed" and "expired" in outcome.reason
    with session_factory() as session:
        view = archive.archive_of(session, done.id)
        assert view.next_try_at >= before + timedelta(seconds=archive.BACKOFF_BASE_S)
        assert archive.due(session, now=utcnow()) == []
        assert archive.due(session, now=view.next_try_at + timedelta(seconds=1)) == [done.id]
    knobs(server, expire_urls=False)
    later = lambda: view.next_try_at + timedelta(seconds=1)  # noqa: E731
    assert archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"),
                                clock=later).state == "archived"


def test_a_second_run_copies_nothing(session_factory, server, catalog_index, store) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    first = archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    listing = store.listing()
    stamps = {o.key: store.local_path(o.key).stat().st_mtime_ns for o in listing}
    again = archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"), force=True)
    assert first.copied == len(listing) and again.state == "archived" and again.copied == 0
    assert store.listing() == listing
    assert {o.key: store.local_path(o.key).stat().st_mtime_ns for o in listing} == stamps
    with session_factory() as session:
        assert archive.due(session) == []


def test_backfill_archives_every_completed_reel_without_one(session_factory, server, catalog_index, store) -> None:
    reels = [completed_reel(session_factory, server, catalog_index) for _ in range(2)]
    seen = []
    outcomes = backfill(session_factory, store, client_for(server), actor=worker_actor("backfill"),
                        progress=lambda done, total, o: seen.append((done, total, o.reel_id)))
    assert sorted(o.reel_id for o in outcomes) == sorted(r.id for r in reels)
    assert {o.state for o in outcomes} == {"archived"}
    assert [(d, t) for d, t, _ in seen] == [(1, 2), (2, 2)]
    assert backfill(session_factory, store, client_for(server), actor=worker_actor("backfill")) == []
    with session_factory() as session:
        totals = archive.summary(session)
    assert totals.archived == 2 and totals.pending == 0 and totals.files == len(store.listing())
    assert totals.bytes == sum(o.size_bytes for o in store.listing())


def test_deleting_the_archive_removes_its_files(session_factory, server, catalog_index, store) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    count = len(store.listing())
    with session_factory() as session:
        assert archive.delete_archive(session, store, done.id) == count
        assert archive.archive_of(session, done.id).files == {}
    assert store.listing() == []


def test_retention_removes_old_archives_only(session_factory, server, catalog_index, store) -> None:
    old, new = (completed_reel(session_factory, server, catalog_index) for _ in range(2))
    for r in (old, new):
        archive.archive_reel(session_factory, store, client_for(server), r.id, actor=worker_actor("t"))
    with session_factory() as session:
        assert archive.apply_retention(session, store, days=0, actor=SYSTEM) == 0
        now = old.completed_at + timedelta(days=30, seconds=1)
        session.query(Reel).filter(Reel.id == new.id).update({"completed_at": now - timedelta(days=1)})
        session.commit()
        assert archive.apply_retention(session, store, days=30, actor=SYSTEM, now=now) == 1
        assert archive.archive_of(session, old.id).state == "deleted"
        assert archive.archive_of(session, new.id).state == "archived"
        assert archive.due(session) == []  # a deleted archive is not copied again
    assert {o.key.split("/")[0] for o in store.listing()} == {new.video_id}


def test_the_worker_is_not_held_up_by_a_stalled_download(session_factory, server, catalog_index, store) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    knobs(server, stall_files_next=1, stall_s=3.0)
    archiver = Archiver(session_factory, store, client_for(server), actor=worker_actor("w"), timeout_s=1.0)
    assert archiver.schedule() == 1
    assert archiver.schedule() == 0  # already under way: not started twice, and schedule returned at once
    assert archiver.wait(60)
    assert archiver.outcomes[-1].state == "archived" and archiver.outcomes[-1].reel_id == done.id
    archiver.close()


def test_the_board_shows_each_finished_reels_archive_state(session_factory, server, catalog_index, store,
                                                           clock) -> None:
    from core.board.rows import BoardFilter, load_board

    ok, broken = (completed_reel(session_factory, server, catalog_index) for _ in range(2))
    archive.archive_reel(session_factory, store, client_for(server), ok.id, actor=worker_actor("t"))
    clock.advance(8 * 24 * 3600)
    knobs(server, expire_urls=True)
    failed = archive.archive_reel(session_factory, store, client_for(server), broken.id, actor=worker_actor("t"))
    draft_id = launched(session_factory, catalog_index)  # queued: no archive at all
    with session_factory() as session:
        frame, _ = load_board(session, BoardFilter())
    shown = dict(zip(frame["id"], frame["archive"], strict=True))
    assert shown[ok.id] == "Archived"
    assert shown[broken.id] == f"Archive failed: {failed.reason}"
    assert shown[draft_id] is None


def test_the_backfill_command_shows_progress_and_exits_by_outcome(session_factory, server, catalog_index, store,
                                                                   capsys) -> None:
    import io

    from core.jobs.archiver import backfill_with_progress

    done = completed_reel(session_factory, server, catalog_index)
    bar = io.StringIO()
    assert backfill_with_progress(session_factory, store, client_for(server), stream=bar) == 0
    assert "1/1" in bar.getvalue() and f"reel {done.id}: archived" in bar.getvalue()
    assert capsys.readouterr().out.strip() == "1 archived, 0 failed."
    with session_factory() as session:  # one the backfill cannot save: HeyGen lost the video
        session.query(Reel).filter(Reel.id == done.id).update(
            {"video_id": "gone-at-heygen", "video_url": done.video_url.replace("Signature=", "Signature=x")})
        session.commit()
        archive.delete_archive(session, store, done.id)
    assert backfill_with_progress(session_factory, store, client_for(server), stream=io.StringIO()) == 1
    assert capsys.readouterr().out.strip() == "0 archived, 1 failed."


def test_videos_play_from_the_local_archive_and_fall_back_when_a_file_is_missing(
        session_factory, server, catalog_index, store) -> None:
    from core.board.videos import media, video_details

    done = completed_reel(session_factory, server, catalog_index)
    archive.archive_reel(session_factory, store, client_for(server), done.id, actor=worker_actor("t"))
    with session_factory() as session:
        d = video_details(session, done.id)
    local = media(store, d, "video")
    assert local.source == "archive" and local.url is None
    assert sha256_of(local.path) == sha256_of(source_file(server, done.video_id, "video.mp4"))
    local.path.unlink()  # someone removed the file from the archive folder
    fallback = media(store, d, "video")
    assert (fallback.source, fallback.url) == ("heygen", done.video_url)


def test_an_unexpected_error_in_a_copy_is_logged_and_the_archiver_carries_on(
        session_factory, server, catalog_index, store, monkeypatch, caplog) -> None:
    done = completed_reel(session_factory, server, catalog_index)
    real = archive.archive_reel
    monkeypatch.setattr(archive, "archive_reel", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db gone")))
    archiver = Archiver(session_factory, store, client_for(server), actor=worker_actor("w"))
    assert archiver.schedule() == 1 and archiver.wait(30)
    assert archiver.outcomes[-1].state == "failed" and "archiving reel" in caplog.text
    monkeypatch.setattr(archive, "archive_reel", real)
    assert archiver.schedule() == 1 and archiver.wait(60)  # the reel was never claimed: due again at once
    assert archiver.outcomes[-1].state == "archived" and archiver.outcomes[-1].reel_id == done.id
    archiver.close()


def test_only_the_worker_reel_studio_and_admins_archive_and_only_owners_or_admins_delete(
        session_factory, server, catalog_index, store) -> None:
    from core.access.actor import Actor
    from core.access.permissions import PermissionDenied

    done = completed_reel(session_factory, server, catalog_index)
    producer = Actor("Pam", verified=True, user_id=999, role="producer")  # not the owner
    with pytest.raises(PermissionDenied, match="archive finished videos"):
        archive.archive_reel(session_factory, store, client_for(server), done.id, actor=producer)
    with pytest.raises(PermissionDenied):
        backfill(session_factory, store, client_for(server), actor=producer)
    admin = Actor("Ada", verified=True, user_id=1000, role="admin")
    assert archive.archive_reel(session_factory, store, client_for(server), done.id, actor=admin).state == "archived"
    files = store.listing()
    with session_factory() as session, pytest.raises(PermissionDenied, match="delete this reel"):
        archive.delete_reel(session, store, done.id, actor=producer)
    assert store.listing() == files  # nothing was removed before the refusal
    with session_factory() as session:
        assert archive.delete_reel(session, store, done.id, actor=admin) == len(files)
    assert store.listing() == []
