"""Bad input never corrupts stored data, and every refusal names the field in one specific sentence.

The table below (one row per input) runs on SQLite and PostgreSQL. A refused row is tried
where a user would hit it — creating a draft, saving an edit, or launching — and must leave
the reel, its scenes, events and attempts byte-for-byte as they were. An accepted row (emoji,
right-to-left text, HTML, SQL-looking text) must be stored and sent to HeyGen verbatim.
Then HeyGen-side and environment failures: wrong or limited key, 400 with ``param``,
expired links, malformed catalog entries, an unwritable data folder, HeyGen unreachable at
start-up, and the rendering path for HTML in user text.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from sqlalchemy import func, select

from core.catalog.store import load_catalog
from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient
from core.heygen.errors import (
    AuthenticationError,
    InvalidRequestError,
    MalformedResponseError,
    PermissionDeniedError,
)
from core.jobs import lifecycle
from core.models import Reel, ReelAttempt, ReelEvent
from core.reels.body import build_studio_body
from core.reels.drafts import create_reel, get_reel, set_scenes, update_reel
from core.reels.validation import ReelValidationError, SceneInput
from core.runtime import StartupError, ensure_data_dir
from tests.people import person

ROOT = Path(__file__).resolve().parents[2]
AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"  # Ivy: English, offers en-US, en-GB, …
NO_ACCENT_VOICE_ID = "b99b17cac41f4376bd291820c4854711"  # "chad": no accent choice


def scenes(count: int = 3) -> list[SceneInput]:
    return [SceneInput(position=i, avatar_id=AVATAR_ID, voice_id=VOICE_ID, script=f"Scene {i} says hello.")
            for i in range(1, count + 1)]


def edit(number: int, **changes: Any) -> Callable[[list[SceneInput]], list[SceneInput]]:
    """Scenes with ``changes`` applied to scene ``number`` (1-based)."""
    return lambda current: [dataclasses.replace(s, **changes) if n == number else s
                            for n, s in enumerate(current, start=1)]


@dataclass
class Case:
    """One input. ``stage``: ``create`` (new draft), ``settings`` (update_reel), ``save`` (set_scenes),
    ``launch`` (stored, then launched) or ``accept`` (stored and sent verbatim). ``field``/``fragment``:
    the expected :class:`core.reels.validation.Problem` (field exactly, fragment within the message)."""

    id: str
    stage: str
    field: str = ""
    fragment: str = ""
    change: Callable[[list[SceneInput]], list[SceneInput]] | None = None
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    mode: str = "scene_based"


LONG = "a" * 5001
CASES = [
    # scripts
    Case("script-empty", "launch", "scenes[2].script", "Scene 2: the script is empty", edit(2, script="")),
    Case("script-blank", "launch", "scenes[3].script", "the script is empty", edit(3, script=" \n\t  ")),
    Case("script-none", "launch", "scenes[1].script", "the script is empty", edit(1, script=None)),
    Case("script-5001", "launch", "scenes[1].script", "5,001 characters long; HeyGen's limit is 5,000",
         edit(1, script=LONG)),
    Case("script-5001-emoji", "launch", "scenes[2].script", "5,001 characters", edit(2, script="🎬" * 5001)),
    Case("script-nul", "save", "scenes[1].script", "control character (U+0000)", edit(1, script="Hi\x00there")),
    Case("script-bell", "save", "scenes[2].script", "(U+0007) at character 6", edit(2, script="Hello\aworld")),
    Case("script-escape", "save", "scenes[3].script", "(U+001B)", edit(3, script="\x1b[31mred")),
    Case("script-delete", "save", "scenes[1].script", "(U+007F)", edit(1, script="oops\x7f")),
    Case("script-vertical-tab", "save", "scenes[2].script", "(U+000B)", edit(2, script="a\vb")),
    Case("script-form-feed", "save", "scenes[3].script", "(U+000C)", edit(3, script="a\fb")),
    Case("script-next-line-c1", "save", "scenes[1].script", "(U+0085)", edit(1, script="a\u0085b")),
    Case("script-not-text", "save", "scenes[2].script", "the script must be text", edit(2, script=42)),
    # catalog ids and accents
    Case("avatar-unknown", "launch", "scenes[1].avatar_id", "'gone_look' is not in the catalog",
         edit(1, avatar_id="gone_look")),
    Case("avatar-missing", "launch", "scenes[3].avatar_id", "Scene 3: choose an avatar look", edit(3, avatar_id="")),
    Case("avatar-sql", "launch", "scenes[2].avatar_id", "is not in the catalog",
         edit(2, avatar_id="x' OR '1'='1")),
    Case("avatar-too-long", "save", "scenes[1].avatar_id", "at most 200 characters", edit(1, avatar_id="a" * 201)),
    Case("voice-unknown", "launch", "scenes[2].voice_id", "'0000' is not in the catalog", edit(2, voice_id="0000")),
    Case("voice-missing", "launch", "scenes[1].voice_id", "Scene 1: choose a voice", edit(1, voice_id=None)),
    Case("voice-too-long", "save", "scenes[3].voice_id", "at most 64 characters", edit(3, voice_id="v" * 65)),
    Case("locale-malformed", "save", "scenes[1].locale", "is not a locale tag such as en-GB",
         edit(1, locale="British English")),
    Case("locale-injection", "save", "scenes[2].locale", "is not a locale tag", edit(2, locale="en-GB;DROP")),
    Case("locale-not-offered", "launch", "scenes[1].locale", "'en-XX' is not an accent of the voice 'Ivy'",
         edit(1, locale="en-XX")),
    Case("locale-other-language", "launch", "scenes[3].locale", "'pt-BR' is not an accent",
         edit(3, locale="pt-BR")),
    Case("locale-voice-without-accents", "launch", "scenes[2].locale", "has no accent choice",
         edit(2, voice_id=NO_ACCENT_VOICE_ID, locale="en-GB")),
    # scene counts and positions
    Case("studio-0-scenes", "create", "scenes", "at least 1 scene", lambda s: [], mode="studio"),
    Case("scene-based-4-scenes", "create", "scenes", "exactly 3 scenes; this one has 4", lambda s: scenes(4)),
    Case("scene-based-2-scenes", "save", "scenes", "exactly 3 scenes; this one has 2", lambda s: s[:2]),
    Case("studio-51-scenes", "create", "scenes", "at most 50 scenes (HeyGen's limit); this one has 51",
         lambda s: scenes(51), mode="studio"),
    Case("duplicate-position", "save", "scenes[2].position", "position 1 is already used",
         edit(2, position=1)),
    Case("position-not-number", "save", "scenes[3].position", "must be a whole number", edit(3, position="3")),
    # voice settings
    Case("speed-too-fast", "save", "scenes[1].speed", "speed must be between 0.5 and 1.5", edit(1, speed=1.51)),
    Case("speed-too-slow", "save", "scenes[2].speed", "got 0.49", edit(2, speed=0.49)),
    Case("speed-nan", "save", "scenes[3].speed", "between 0.5 and 1.5", edit(3, speed=float("nan"))),
    Case("speed-infinite", "save", "scenes[1].speed", "got inf", edit(1, speed=float("inf"))),
    Case("speed-text", "save", "scenes[2].speed", "got 'fast'", edit(2, speed="fast")),
    Case("pitch-too-high", "save", "scenes[1].pitch", "pitch must be between −50 and +50", edit(1, pitch=50.5)),
    Case("pitch-too-low", "save", "scenes[3].pitch", "got -51", edit(3, pitch=-51)),
    Case("pitch-boolean", "save", "scenes[2].pitch", "got True", edit(2, pitch=True)),
    Case("background-named", "save", "scenes[1].background_color", "must be #RRGGBB",
         edit(1, background_color="red")),
    Case("background-not-hex", "save", "scenes[2].background_color", "got '#GGGGGG'",
         edit(2, background_color="#GGGGGG")),
    # reel settings
    Case("title-201", "settings", "title", "201 characters long; the limit is 200", settings={"title": "t" * 201}),
    Case("title-not-text", "settings", "title", "The title must be text", settings={"title": 123}),
    Case("mode-unknown", "settings", "mode", "Mode must be one of scene_based, studio",
         settings={"mode": "slideshow"}),
    Case("aspect-ratio-unknown", "settings", "aspect_ratio", "got '4:3'", settings={"aspect_ratio": "4:3"}),
    Case("resolution-unknown", "settings", "resolution", "got '8k'", settings={"resolution": "8k"}),
    Case("engine-unknown", "settings", "engine", "got 'avatar_ii'", settings={"engine": "avatar_ii"}),
    Case("captions-not-bool", "settings", "captions", "on or off", settings={"captions": "yes"}),
    # accepted and kept verbatim
    Case("emoji", "accept", change=edit(1, script="Hello 👋🏽 team 👨‍👩‍👧 — let's go 🎬!")),
    Case("right-to-left", "accept", change=edit(2, script="مرحبا بكم في جولتنا — שלום עולם")),
    Case("bidi-override", "accept", change=edit(3, script="abc \u202edcba\u202c end")),
    Case("html-tags", "accept", change=edit(1, script="<b>Bold</b> & <i>italic</i> <img src=x onerror=alert(1)>")),
    Case("script-tag", "accept", change=edit(2, script="<script>alert(1)</script>")),
    Case("sql-drop", "accept", change=edit(3, script="Robert'); DROP TABLE reels; --")),
    Case("sql-union", "accept", change=edit(1, script="' UNION SELECT api_key FROM settings --")),
    Case("format-strings", "accept", change=edit(2, script="%s %(key)s {0} {{x}} \\n \\x00 $HOME `id`")),
    Case("exactly-5000", "accept", change=edit(3, script="b" * 5000)),
    Case("html-title", "accept", settings={"title": "<script>alert('title')</script> & \"quotes\""}),
]


def snapshot(session_factory, reel_id: int) -> tuple:
    """Everything stored about a reel: row, scenes, events and attempts."""
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        columns = {c.key: getattr(reel, c.key) for c in Reel.__table__.columns}
        scene_rows = [tuple(getattr(s, c.key) for c in s.__table__.columns) for s in reel.scenes]
        events = session.execute(select(func.count()).select_from(ReelEvent).where(ReelEvent.reel_id == reel_id))
        attempts = session.execute(select(func.count()).select_from(ReelAttempt)
                                   .where(ReelAttempt.reel_id == reel_id))
        return columns, scene_rows, events.scalar_one(), attempts.scalar_one()


def new_draft(session_factory, mode: str = "scene_based") -> int:
    with session_factory() as session:
        reel = create_reel(session, actor=person("ana"), title="Bad input", mode=mode, scenes=scenes())
        session.commit()
        return reel.id


def current_scenes(session_factory, reel_id: int) -> list[SceneInput]:
    with session_factory() as session:
        return [SceneInput.from_scene(s) for s in get_reel(session, reel_id).scenes]


def expect(problems, case: Case) -> None:
    matching = [p for p in problems if p.field == case.field]
    assert matching, f"no problem for {case.field}: {problems}"
    assert any(case.fragment in p.message for p in matching), matching
    message = next(p.message for p in matching if case.fragment in p.message)
    assert message.count("\n") == 0 and message.endswith("."), message  # one sentence


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_named_and_changes_nothing(session_factory, catalog_index, case):
    if case.stage == "create":
        with session_factory() as session:
            before = session.execute(select(func.count()).select_from(Reel)).scalar_one()
            with pytest.raises(ReelValidationError) as err:
                create_reel(session, actor=person("ana"), title="Bad", mode=case.mode, scenes=case.change(scenes()))
            session.rollback()
            expect(err.value.problems, case)
            assert session.execute(select(func.count()).select_from(Reel)).scalar_one() == before
        return
    reel_id = new_draft(session_factory)
    before = snapshot(session_factory, reel_id)
    if case.stage in ("settings", "save"):
        with session_factory() as session, pytest.raises(ReelValidationError) as err:
            if case.settings:
                update_reel(session, reel_id, actor=person("ana"), **case.settings)
            else:
                set_scenes(session, reel_id, case.change(current_scenes(session_factory, reel_id)), actor=person("ana"))
            session.commit()
        expect(err.value.problems, case)
        assert snapshot(session_factory, reel_id) == before
        return
    with session_factory() as session:  # launch / accept: the edit itself is stored
        if case.settings:
            update_reel(session, reel_id, actor=person("ana"), **case.settings)
        if case.change:
            set_scenes(session, reel_id, case.change(current_scenes(session_factory, reel_id)), actor=person("ana"))
        session.commit()
    stored = snapshot(session_factory, reel_id)
    with session_factory() as session:
        result = lifecycle.launch(session, reel_id, actor=person("ana"), index=catalog_index)
    if case.stage == "launch":
        assert not result.ok and result.status == "draft" and result.message.startswith("Fix ")
        expect(result.problems, case)
        assert snapshot(session_factory, reel_id) == stored
        return
    assert result.ok, result.problems
    wanted = case.change(scenes()) if case.change else scenes()
    with session_factory() as session:
        reel = get_reel(session, reel_id)
        assert [s.script for s in reel.scenes] == [s.script for s in wanted]
        if "title" in case.settings:
            assert reel.title == case.settings["title"]
        body = build_studio_body(reel, catalog_index, callback_id="x")
    assert [scene["input"]["script"] for scene in body["scenes"]] == [s.script for s in wanted]


def test_the_table_has_at_least_forty_rows_and_unique_ids():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


# ------------------------------------------------------------------------------------ HeyGen side


def test_wrong_api_key_is_one_sentence_without_the_key(sandbox):
    client = HeyGenClient("sk_wrong_key_1234567890abcdef", base_url=sandbox.url, cache_location=None)
    with pytest.raises(AuthenticationError) as err:
        client.get_current_user()
    text = str(err.value)
    assert text == "HeyGen did not accept the API key; check HEYGEN_API_KEY in Settings."
    assert "sk_wrong_key" not in text + repr(err.value)


def test_key_without_access_is_403_in_one_sentence(sandbox_factory):
    server = sandbox_factory(forbidden_keys=("limited-key-0001",))
    client = HeyGenClient("limited-key-0001", base_url=server.url, cache_location=None)
    with pytest.raises(PermissionDeniedError) as err:
        client.get_current_user()
    assert err.value.status == 403
    assert str(err.value).startswith("This HeyGen key is not allowed to do that")
    assert "limited-key" not in str(err.value) + repr(err.value)


def studio_body() -> dict:
    """A valid ``POST /v3/videos`` studio body with real catalog ids."""
    scene = {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": AVATAR_ID, "script": "Hello there.",
                                                "voice_id": VOICE_ID, "voice_settings": {"speed": 1.0, "pitch": 0.0},
                                                "engine": {"type": "avatar_iv"}}}
    return {"type": "studio", "title": "Param", "resolution": "1080p", "aspect_ratio": "16:9", "scenes": [scene]}


@pytest.mark.parametrize("mutate, param", [
    (lambda body: body["scenes"][0]["input"]["voice_settings"].update(speed=9.0), "speed"),
    (lambda body: body.update(scenes=[]), "scenes"),
    (lambda body: body.update(resolution="8k"), "resolution"),
    (lambda body: body["scenes"][0]["input"].update(voice_id="nope"), "voice_id"),
], ids=["speed", "no-scenes", "resolution", "unknown-voice"])
def test_heygen_400_names_the_field(sandbox, sandbox_client, mutate, param):
    body = studio_body()
    mutate(body)
    with pytest.raises(InvalidRequestError) as err:
        sandbox_client.create_video(body, idempotency_key="k-400-" + param)
    assert err.value.status == 400 and err.value.param and param in err.value.param
    assert err.value.param in str(err.value)
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()["videos_created"] == 0


def test_expired_video_link_is_refreshed(sandbox, sandbox_client, session_factory, catalog_index, tmp_path):
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"expire_urls": True}, timeout=10).raise_for_status()
    with session_factory() as session:
        reel = create_reel(session, actor=person("ana"), title="Links", scenes=scenes())
        session.commit()
        created = sandbox_client.create_video(build_studio_body(reel, catalog_index, callback_id="l"))
        video = _wait_completed(sandbox_client, created.video_id)
        reel.status, reel.video_id, reel.video_url = "completed", video.id, video.video_url
        session.commit()
        reel_id = reel.id
    assert requests.get(video.video_url, timeout=10).status_code == 403
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"expire_urls": False}, timeout=10).raise_for_status()
    with session_factory() as session:
        fresh = lifecycle.refresh_links(session, sandbox_client, reel_id, actor=person("ana"))
        assert fresh.video_url != video.video_url
    assert sandbox_client.download(fresh.video_url, tmp_path / "v.mp4").stat().st_size > 0


def _wait_completed(client, video_id: str):
    for _ in range(300):
        video = client.get_video(video_id)
        if video.status in ("completed", "failed"):
            assert video.status == "completed", video
            return video
        time.sleep(0.05)
    raise AssertionError("video did not complete")


MALFORMED_VOICES = [
    {"voice_id": "ok1", "name": "Fine", "language": "English", "gender": "female", "support_locale": True},
    {"voice_id": "nulls", "name": None, "language": None, "gender": None, "support_pause": None,
     "support_locale": None, "preview_audio_url": None, "type": None},
    {"voice_id": "odd", "name": "Derya - Lifelike 🤩\u00a0", "language": " Turkey ", "gender": "Male",
     "future_field": {"x": 1}},
    {"name": "no id at all"},
    "not an object",
    None,
    {"voice_id": ["a", "list"]},
]


@responses.activate
def test_malformed_catalog_entries_are_tolerated():
    responses.get("https://api.heygen.com/v3/voices",
                  json={"data": MALFORMED_VOICES, "has_more": False, "next_token": None})
    voices = HeyGenClient("k", cache_location=None, max_retries=0).list_voices()
    assert [v.voice_id for v in voices] == ["ok1", "nulls", "odd"]
    assert voices[1].name == "" and voices[1].support_locale is False
    from core.catalog.tables import voices_frame

    frame = voices_frame(voices, None)
    assert len(frame) == 3


@responses.activate
def test_catalog_with_no_usable_entry_is_malformed():
    responses.get("https://api.heygen.com/v3/voices", json={"data": [{"name": "x"}, 5], "has_more": False})
    with pytest.raises(MalformedResponseError):
        HeyGenClient("k", cache_location=None, max_retries=0).list_voices()


# ------------------------------------------------------------------------------------ environment


def test_unwritable_data_folder_names_the_folder(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "data"
    with pytest.raises(StartupError) as err:
        ensure_data_dir(folder)
    assert str(folder) in str(err.value) and "DATA_DIR" in str(err.value)


@pytest.mark.parametrize("ttl_s", [3600.0, 0.5], ids=["fresh-cache", "expired-cache"])
def test_heygen_unreachable_at_start_opens_on_the_cached_catalog(sandbox_factory, tmp_path, ttl_s):
    server = sandbox_factory()
    cache = str(tmp_path / "http_cache.sqlite")
    warm = load_catalog(HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=cache,
                                     catalog_ttl_s=ttl_s))
    assert warm.voices and warm.looks
    dead_url = server.url
    server.stop()
    time.sleep(ttl_s + 0.1 if ttl_s < 5 else 0)
    cold = HeyGenClient(SANDBOX_API_KEY, base_url=dead_url, cache_location=cache, catalog_ttl_s=ttl_s,
                        max_retries=0, timeout_s=2.0)
    catalog = load_catalog(cold)
    assert len(catalog.voices) == len(warm.voices) and len(catalog.looks) == len(warm.looks)
    assert catalog.from_cache  # what the home and settings pages show as "from the cache"


# ------------------------------------------------------------------------------------ rendering


#: The one module allowed to draw HTML: fixed CSS and scripts written in it (its docstring says so), with
#: widget keys JSON-encoded into them; it reads no reel, scene, name or catalog text.
HTML_MODULE = ROOT / "ui" / "browser.py"


def test_pages_never_render_html_from_user_text():
    """``unsafe_allow_html`` / ``st.html`` / components may only carry fixed markup, never user text."""
    offenders = []
    source = HTML_MODULE.read_text()
    assert "from core" not in source and "import core" not in source  # no access to stored user text
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]:
        if path == HTML_MODULE:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.v1|components\.html", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


XSS = "<script>alert(1)</script>"


@pytest.fixture
def sandbox_runtime(tmp_path, monkeypatch):
    """The app in sandbox mode on a fresh data folder, no worker (drafts stay put)."""
    from core.runtime import get_runtime, reset_runtime

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.setenv("SANDBOX_PORT", "0")
    monkeypatch.setenv("WORKER_MODE", "off")
    for name in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL", "HEYGEN_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_runtime()
    yield get_runtime()
    reset_runtime()


def _all_nodes(node) -> list:
    out = [node]
    for child in getattr(node, "children", {}).values():
        out += _all_nodes(child)
    return out


def test_script_tag_in_user_text_is_shown_as_text(sandbox_runtime):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    with sandbox_runtime.session_factory() as session:
        xss_scenes = [dataclasses.replace(s, script=f"{XSS} scene {s.position}") for s in scenes()]
        reel = create_reel(session, actor=person("Ana"), title=XSS, scenes=xss_scenes)
        session.commit()
        reel_id = reel.id
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["me"] = "Ana"
    at.query_params["c_reel"] = str(reel_id)
    at.run()
    for page in ("pages/3_Compose.py", "pages/4_Status.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        nodes = _all_nodes(at._tree)
        shown = [n for n in nodes if XSS in str(getattr(n, "proto", ""))]
        kinds = {n.type for n in shown}
        assert ("text_area" in kinds) if page.endswith("Compose.py") else ("dataframe" in kinds), kinds
        assert shown, f"{page}: the title or script is not on the page"
        for node in shown:
            proto = node.proto
            assert not getattr(proto, "allow_html", False), (page, node.type)
            assert getattr(node, "type", "") not in ("html", "iframe"), page
        assert all(XSS not in str(h.proto) for h in at.html)  # the fixed CSS/scripts never carry user text
