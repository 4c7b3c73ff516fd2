"""Videos page: a reel rendered by the embedded worker against the sandbox, played, downloaded, re-linked."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from streamlit.runtime.media_file_manager import MediaFileManager

from core.catalog.store import load_catalog
from core.jobs.lifecycle import launch
from core.models import Reel, utcnow
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.apptest.reel_states import make_reel
from tests.people import signed_in

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
    return reel


def test_empty_state_before_any_video(open_page):
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert any("No finished videos yet" in i.value for i in at.info)


def test_a_rendered_reel_plays_with_details_and_downloads(open_page, rendered, monkeypatch):
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
    assert metrics["Length"].endswith(" s") and metrics["Dimensions"] == "1920×1080"
    assert metrics["File size"].endswith(("kB", "MB"))
    mp4 = next(make for name, make in makers.items() if name.endswith(".mp4"))()
    assert mp4[4:8] == b"ftyp"
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


def test_expired_links_are_refreshed_from_heygen(open_page, rendered, app_runtime):
    with app_runtime.session_factory() as session:
        session.execute(update(Reel).where(Reel.id == rendered.id)
                        .values(links_expire_at=utcnow() - timedelta(hours=1)))
        session.commit()
    at = open_page(PAGE, query={"vid_reel": str(rendered.id)})
    assert any("expired" in w.value for w in at.warning)
    assert not at.get("video")
    at.button(key="vid_refresh").click().run()
    assert not at.exception, at.exception
    assert any("Fresh download links" in s.value for s in at.success)
    assert len(at.get("video")) == 1
    with app_runtime.session_factory() as session:
        assert session.get(Reel, rendered.id).links_expire_at > utcnow()


def test_what_was_said_shows_the_script_versions_of_the_render(open_page, rendered):
    at = open_page(PAGE, query={"vid_reel": str(rendered.id)})
    assert not at.exception, at.exception
    said = next(e for e in at.expander if e.label.startswith("What was said"))
    assert said.label == "What was said (3 scenes)"
    assert [t.value for t in said.text] == [f"Scene {n}: welcome aboard." for n in (1, 2, 3)]
    assert all("version saved by Ana" in c.value for c in said.caption)
