"""Videos page: a reel rendered by the embedded worker against the sandbox, played, downloaded, re-linked."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.runtime.media_file_manager import MediaFileManager

from core.access.actor import worker_actor
from core.board.text import human_duration
from core.board.videos import human_size
from core.catalog.store import load_catalog
from core.jobs.archive import ArchiveView, archive_of, archive_reel
from core.jobs.archive_download import probe
from core.jobs.lifecycle import launch
from core.models import ArchivedFile, Reel, ReelArchive, utcnow
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.apptest.reel_states import make_reel
from tests.people import signed_in
from ui.text import plain

PAGE = "pages/5_Videos.py"


def _wait_for(app_runtime, reel_id: int, timeout_s: float = 60.0) -> Reel:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with app_runtime.session_factory() as session:
            reel = session.get(Reel, reel_id)
            if reel.status in ("completed", "failed"):
                return reel
        time.sleep(0.2)
    raise AssertionError(f"reel {reel_id} did not finish within {timeout_s} s")


@pytest.fixture(scope="module")
def rendered(app_runtime):
    """One reel launched and rendered by the embedded worker (sandbox at a fast time scale)."""
    catalog = load_catalog(app_runtime.client)
    look = next(lk for lk in catalog.looks if not lk.supported_api_engines or "avatar_iv" in lk.supported_api_engines)
    voice = catalog.voices[0]
    scenes = [SceneInput(position=n, avatar_id=look.id, voice_id=voice.voice_id, script=f"Scene {n}: welcome aboard.")
              for n in (1, 2, 3)]
    with app_runtime.session_factory() as session:
        reel = create_reel(session, actor=signed_in(session, "Ana"), title="Welcome aboard", captions=True, scenes=scenes)
        session.commit()
        result = launch(session, reel.id, actor=signed_in(session, "Ana"), index=catalog.index)
        assert result.ok, result.message
        reel_id = reel.id
    reel = _wait_for(app_runtime, reel_id)
    assert reel.status == "completed", reel.failure_message
    _wait_for_archive(app_runtime, reel_id)
    return reel


def _wait_for_archive(app_runtime, reel_id: int, timeout_s: float = 60.0) -> ArchiveView:
    """The embedded worker archives every completed reel; wait until this one is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with app_runtime.session_factory() as session:
            view = archive_of(session, reel_id)
        if view.state == "archived":
            return view
        time.sleep(0.2)
    raise AssertionError(f"reel {reel_id} was not archived within {timeout_s} s ({view.state}: {view.reason})")


def _source(app_runtime, video_id: str, name: str = "video.mp4") -> Path:
    return app_runtime.sandbox.sandbox.files_dir / video_id / name


@pytest.fixture
def paused_archiver(app_runtime, monkeypatch):
    """The embedded worker archives nothing new during the test (copies under way finish first)."""
    archiver = app_runtime.worker.archiver
    monkeypatch.setattr(archiver, "schedule", lambda: 0)
    assert archiver.wait(60)
    return archiver


def _not_archived(app_runtime, reel_id: int) -> None:
    """Record ``reel_id``'s archive as failed, with its next try far away."""
    with app_runtime.session_factory() as session:
        session.merge(ReelArchive(reel_id=reel_id, state="failed", reason="Test: not archived.",
                                  next_try_at=utcnow() + timedelta(days=1), updated_at=utcnow()))
        session.commit()


def test_empty_state_before_any_video(open_page):
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert any("No finished videos yet" in i.value for i in at.info)


def test_a_rendered_reel_plays_with_details_and_downloads(open_page, rendered, monkeypatch, app_runtime):
    makers = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        makers[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert at.selectbox(key="vid_reel").value == rendered.id
    assert [s.value for s in at.subheader][0] == "Welcome aboard"
    assert len(at.get("video")) == 1
    metrics = {m.label: m.value for m in at.metric}
    source = _source(app_runtime, rendered.video_id)
    measured = probe(source)  # ffmpeg's view of the file HeyGen (the sandbox) rendered
    assert metrics["Dimensions"] == f"{measured.width}×{measured.height}" != "1920×1080"  # not the requested size
    assert metrics["Length"] == human_duration(measured.duration_s)
    assert metrics["File size"] == human_size(source.stat().st_size)
    assert any("Archived" in c.value for c in at.caption)
    mp4 = next(make for name, make in makers.items() if name.endswith(".mp4"))()
    assert mp4 == source.read_bytes()
    srt = next(make for name, make in makers.items() if name.endswith(".srt"))()
    assert b"-->" in srt


def test_selected_video_comes_from_the_url(open_page, rendered, app_runtime):
    with app_runtime.session_factory() as session:
        other = make_reel(session, "Second video", "completed", owner="Bruno", video_url=rendered.video_url)
    at = open_page(PAGE, query={"vid_reel": str(other.id)})
    assert not at.exception, at.exception
    assert at.selectbox(key="vid_reel").value == other.id
    assert at.subheader[0].value == "Second video"
    at.selectbox(key="vid_reel").set_value(rendered.id).run()
    assert at.subheader[0].value == "Welcome aboard"


def test_search_narrows_the_list(open_page, rendered):
    at = open_page(PAGE, query={"vid_q": "welcome"})
    assert not at.exception
    options = at.selectbox(key="vid_reel").options
    assert len(options) == 1 and options[0].startswith("Welcome aboard")


def test_an_archived_video_still_plays_and_downloads_after_heygen_links_expire(open_page, rendered, app_runtime,
                                                                               monkeypatch, paused_archiver):
    makers = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        makers[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    with app_runtime.session_factory() as session:
        other = make_reel(session, "Expired links", "completed", owner="Bruno", video_url=rendered.video_url)
        session.execute(update(Reel).where(Reel.id == other.id).values(thumbnail_url=rendered.thumbnail_url,
                                                                        subtitle_url=rendered.subtitle_url))
        session.commit()
    outcome = archive_reel(app_runtime.session_factory, app_runtime.archive, app_runtime.client, other.id, actor=worker_actor("t"))
    assert outcome.state == "archived", outcome.reason
    with app_runtime.session_factory() as session:  # HeyGen's links die (and would 403)
        session.execute(update(Reel).where(Reel.id == other.id).values(
            links_expire_at=utcnow() - timedelta(hours=1), video_url=rendered.video_url.replace("Signature=", "S=")))
        session.commit()
    at = open_page(PAGE, query={"vid_reel": str(other.id)})
    assert not at.exception, at.exception
    assert len(at.get("video")) == 1 and not any("expired" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "vid_refresh"]  # nothing to refresh: it plays from the archive
    mp4 = next(make for name, make in makers.items() if name.endswith(".mp4"))()
    assert mp4 == _source(app_runtime, rendered.video_id).read_bytes()


def test_share_page_plays_a_finished_video(open_page, rendered):
    at = open_page("pages/8_Share.py", query={"reel": str(rendered.id)})
    assert not at.exception, at.exception
    assert at.title[0].value == "Welcome aboard" and len(at.get("video")) == 1
    missing = open_page("pages/8_Share.py", query={"reel": "987654"})
    assert not missing.exception and any("does not point to a finished video" in i.value for i in missing.info)


def test_deleting_a_video_asks_first_and_removes_its_archived_files(open_page, rendered, app_runtime,
                                                                    paused_archiver):
    with app_runtime.session_factory() as session:
        doomed = make_reel(session, "To be deleted", "completed", owner="Ana", video_url=rendered.video_url)
    _not_archived(app_runtime, doomed.id)
    with app_runtime.session_factory() as session:  # one archived file of its own
        key = app_runtime.archive.key_for(doomed.video_id, "video.mp4")
        target = Path(app_runtime.archive.full_path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"archived bytes")
        session.add(ArchivedFile(reel_id=doomed.id, kind="video", key=key, size_bytes=14, sha256="0" * 64))
        session.commit()
    at = open_page(PAGE, query={"vid_reel": str(doomed.id)})
    at.button(key="vid_delete").click().run()
    assert any("1 archived file(s)" in w.value for w in at.warning)
    assert target.is_file()  # nothing happens before the confirmation
    at.button(key="vid_delete_yes").click().run()
    assert not at.exception, at.exception
    assert any("Deleted the reel and 1 archived file(s)" in s.value for s in at.success)
    assert not target.exists()
    with app_runtime.session_factory() as session:
        assert session.get(Reel, doomed.id) is None


def test_expired_links_are_refreshed_from_heygen_before_archiving(open_page, rendered, app_runtime,
                                                                  paused_archiver):
    with app_runtime.session_factory() as session:
        other = make_reel(session, "Not archived", "completed", owner="Bruno", video_url=rendered.video_url)
    _not_archived(app_runtime, other.id)
    with app_runtime.session_factory() as session:  # HeyGen's video, whose links expired
        session.execute(update(Reel).where(Reel.id == other.id)
                        .values(links_expire_at=utcnow() - timedelta(hours=1), video_id=rendered.video_id))
        session.commit()
    at = open_page(PAGE, query={"vid_reel": str(other.id)})
    assert any("expired" in w.value for w in at.warning)
    assert not at.get("video")
    at.button(key="vid_refresh").click().run()
    assert not at.exception, at.exception
    assert any("Fresh download links" in s.value for s in at.success)
    assert len(at.get("video")) == 1
    with app_runtime.session_factory() as session:
        assert session.get(Reel, other.id).links_expire_at > utcnow()


def test_what_was_said_shows_the_script_versions_of_the_render(open_page, rendered):
    at = open_page(PAGE, query={"vid_reel": str(rendered.id)})
    assert not at.exception, at.exception
    said = next(e for e in at.expander if e.label.startswith("What was said"))
    assert said.label == "What was said (3 scenes)"
    assert [t.value for t in said.text] == [f"Scene {n}: welcome aboard." for n in (1, 2, 3)]
    assert all("version saved by Ana" in c.value for c in said.caption)


def test_a_title_with_markdown_shows_as_typed(open_page, rendered, app_runtime, paused_archiver):
    with app_runtime.session_factory() as session:
        tricky = make_reel(session, "[Win](https://evil.example) **now**", "completed", video_url=rendered.video_url)
    for page, query in ((PAGE, {"vid_reel": str(tricky.id)}), ("pages/8_Share.py", {"reel": str(tricky.id)})):
        at = open_page(page, query=query)
        assert not at.exception, at.exception
        heading = (at.subheader if page == PAGE else at.title)[0].value
        assert heading == plain("[Win](https://evil.example) **now**")  # escaped: no link, no bold
