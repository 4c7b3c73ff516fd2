"""A distinctive API key never leaves the process's memory: not in logs, caches, the database,
pages, or any exception's text.

The sandbox is told to accept the key, so every layer handles it for real. "Leaked" means the
key's middle (all but the first and last four characters, which :func:`core.config.mask_secret`
may show) appears anywhere.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import MetaData, select
from streamlit.testing.v1 import AppTest

from core.config import Settings, load_settings
from core.heygen import HeyGenClient
from core.heygen.errors import HeyGenError
from core.jobs import lifecycle
from core.jobs.worker import Worker
from core.models import Reel
from core.runtime import get_runtime, reset_runtime
from tests.people import person
from tests.reliability.soak import make_reels

ROOT = Path(__file__).resolve().parents[2]
KEY = f"sk_REL_{uuid.uuid4().hex}{uuid.uuid4().hex[:8]}"
SECRET_PART = KEY[4:-4]
REDIS_URL = "redis://127.0.0.1:6379/13"


def leaked(blob: str | bytes) -> bool:
    if isinstance(blob, bytes):
        return SECRET_PART.encode() in blob or SECRET_PART.encode("utf-16-le") in blob
    return SECRET_PART in blob


@pytest.fixture
def keyed_sandbox(sandbox_factory):
    """A sandbox that accepts :data:`KEY` (and nothing else)."""
    return sandbox_factory(api_keys=(KEY,))


def exercise(client: HeyGenClient, sandbox_url: str) -> list[BaseException]:
    """Successful and failing calls of every kind; returns the errors raised."""
    errors: list[BaseException] = []
    client.list_voices()
    client.list_avatar_looks()
    client.get_current_user()
    body = {"type": "studio", "title": "Secret", "resolution": "720p", "aspect_ratio": "16:9", "scenes": [
        {"type": "avatar_video", "input": {"type": "avatar", "avatar_id": "Abigail_expressive_2024112501",
                                            "script": "Hello.", "voice_id": "cef3bc4e0a84424cafcde6f2cf466c97"}}]}
    created = client.create_video(body, idempotency_key="secret-test-1")
    client.get_video_statuses([created.video_id])
    try:
        HeyGenClient(KEY[::-1], base_url=sandbox_url, cache_location=None).get_current_user()
    except HeyGenError as exc:
        errors.append(exc)
    requests.post(f"{sandbox_url}/_sandbox/faults", json={"spec": "GET /v3/videos/{video_id}:500=3x;"
                                                                   "GET /v3/users/me:429=3x,drop=0.0"}, timeout=10)
    calls = [
        lambda: client.get_video("missing-video"),
        lambda: client.get_video(created.video_id),  # 500 ×3 → ServerError after retries
        lambda: client.get_wallet() if hasattr(client, "get_wallet") else client.list_videos(),
        lambda: HeyGenClient(KEY, base_url=sandbox_url, cache_location=None).get_current_user(),  # 429 ×3
        lambda: client.create_video({"type": "studio", "scenes": []}, idempotency_key="secret-test-2"),
        lambda: client.create_video({**body, "resolution": "8k"}),
        lambda: HeyGenClient(KEY, base_url="http://127.0.0.1:9", cache_location=None, max_retries=0,
                             timeout_s=1.0).get_current_user(),
    ]
    for call in calls:
        try:
            call()
        except HeyGenError as exc:
            errors.append(exc)
    requests.post(f"{sandbox_url}/_sandbox/faults", json={"spec": ""}, timeout=10)
    return errors


def error_texts(errors: list[BaseException]) -> str:
    parts = []
    for exc in errors:
        parts += [str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc)),
                  repr(vars(exc))]
    return "\n".join(parts)


def test_key_never_in_logs_sqlite_cache_or_errors(keyed_sandbox, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cache = tmp_path / "http_cache.sqlite"
    client = HeyGenClient(KEY, base_url=keyed_sandbox.url, cache_location=str(cache), max_retries=2)
    errors = exercise(client, keyed_sandbox.url)
    assert {type(e).__name__ for e in errors} >= {
        "ServerError", "RateLimitError", "InvalidRequestError", "NetworkError", "AuthenticationError"}, errors
    assert not leaked(error_texts(errors))
    assert not leaked(caplog.text)
    assert len(caplog.records) > 50  # DEBUG logging of the client, cache and urllib3 was on
    client.close()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("http_cache")]
    assert files and sum(p.stat().st_size for p in files) > 10_000  # the catalog is in there
    for path in files:
        assert not leaked(path.read_bytes()), path.name
    assert not leaked(repr(client)) and not leaked(repr(load_settings({"HEYGEN_API_KEY": KEY})))


def test_key_never_in_json_log_lines(keyed_sandbox, tmp_path):
    """The same calls with JSON logging at DEBUG: no line, field or traceback holds the key."""
    import io
    import json

    from core.logs import configure_logging, register_secret

    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        register_secret(KEY)
        configure_logging("json", "DEBUG", stream=stream)
        client = HeyGenClient(KEY, base_url=keyed_sandbox.url, cache_location=None, max_retries=2)
        errors = exercise(client, keyed_sandbox.url)
        for error in errors:
            logging.getLogger("core.test").error("call failed: %r %s", error, KEY, exc_info=error)
        client.close()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) > 50 and any("exception" in line for line in lines)
    assert not leaked(stream.getvalue())


def test_key_never_in_redis_cache(keyed_sandbox):
    connection = redis.Redis.from_url(REDIS_URL)
    client = HeyGenClient(KEY, base_url=keyed_sandbox.url, cache_location=REDIS_URL)
    client.list_voices()
    client.get_current_user()
    client.list_voices()  # served from the cache
    assert client.last_from_cache
    values = 0
    for key in connection.scan_iter(count=500):
        assert not leaked(key)
        kind = connection.type(key)
        if kind == b"string":
            blobs = [connection.get(key)]
        elif kind == b"hash":
            blobs = [b for pair in connection.hgetall(key).items() for b in pair]
        elif kind == b"list":
            blobs = connection.lrange(key, 0, -1)
        elif kind == b"set":
            blobs = list(connection.smembers(key))
        elif kind == b"zset":
            blobs = connection.zrange(key, 0, -1)
        else:
            blobs = []
        values += len(blobs)
        assert not any(leaked(b or b"") for b in blobs), key
    assert values > 0


def dump_database(engine) -> str:
    """Every value of every row of every table, as text."""
    metadata = MetaData()
    metadata.reflect(engine)
    lines = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


def test_key_never_in_the_database(keyed_sandbox, engine, session_factory, catalog_index, caplog):
    caplog.set_level(logging.DEBUG)
    settings = dataclasses.replace(Settings(), heygen_api_key=KEY, poll_interval_s=0.01)
    client = HeyGenClient(KEY, base_url=keyed_sandbox.url, cache_location=None)
    reel_ids = make_reels(session_factory, catalog_index, 3, seed=5)
    requests.post(f"{keyed_sandbox.url}/_sandbox/faults", json={"fail_next": 1}, timeout=10)
    worker = Worker(session_factory, client, settings, name="secret-test", index_provider=lambda: catalog_index)
    for _ in range(300):
        worker.run_once()
        with session_factory() as session:
            statuses = session.scalars(select(Reel.status).where(Reel.id.in_(reel_ids))).all()
        if all(s in ("completed", "failed") for s in statuses):
            break
        time.sleep(0.05)
    assert sorted(statuses) == ["completed", "completed", "failed"]
    with session_factory() as session:
        lifecycle.refresh_links(session, client, reel_ids[0], actor=person("ana"))
    text = dump_database(engine)
    assert "Soak reel" in text and "RENDER_FAILED" in text  # the dump holds real data
    assert not leaked(text)
    assert not leaked(caplog.text)


# ------------------------------------------------------------------------------------ pages


@pytest.fixture
def live_runtime(keyed_sandbox, tmp_path, monkeypatch) -> Iterator[object]:
    """The app in live mode (HEYGEN_API_KEY set) pointed at the sandbox that accepts the key."""
    monkeypatch.setenv("HEYGEN_API_KEY", KEY)
    monkeypatch.setenv("HEYGEN_BASE_URL", keyed_sandbox.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.setenv("WORKER_MODE", "off")
    for name in ("DATABASE_URL", "HTTP_CACHE_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_runtime()
    runtime = get_runtime()
    assert runtime.settings.mode == "live"
    yield runtime
    reset_runtime()


def page_text(node) -> str:
    """Text form of every element and block proto under ``node`` (values, labels, markdown, data)."""
    parts = []
    proto = getattr(node, "proto", None)
    if proto is not None:
        parts.append(str(proto))
    for child in getattr(node, "children", {}).values():
        parts.append(page_text(child))
    return "\n".join(parts)


PAGES = ["app.py", "pages/1_Voices.py", "pages/2_Avatars.py", "pages/3_Compose.py", "pages/4_Status.py",
         "pages/5_Videos.py", "pages/6_Settings.py"]


def test_key_never_on_any_page(live_runtime, catalog_index):
    import streamlit as st

    st.cache_data.clear()
    reel_ids = make_reels(live_runtime.session_factory, catalog_index, 2, seed=9)
    assert reel_ids
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["me"] = "Ana"
    at.run()
    seen = []
    for page in PAGES:
        if page != "app.py":
            at.switch_page(page)
            at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        text = page_text(at._tree)
        seen.append((page, len(text)))
        assert not leaked(text), page
        assert not leaked(repr(at.session_state.to_dict())), page
    settings_text = page_text(at._tree)
    assert KEY[:4] in settings_text and KEY[-4:] in settings_text  # the masked key is what the page shows
    assert all(size > 200 for _, size in seen), seen
