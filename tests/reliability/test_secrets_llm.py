"""The chat model's API key (``LLM_API_KEY``) never leaves the process's memory either: not in logs,
exceptions, the database, Streamlit's session state or any page.

A sandbox that accepts only this key stands in for the model endpoint, so the real ``openai`` client
sends it on every request. "Leaked" means the key's middle appears anywhere (as in ``test_secrets``).
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from core.config import load_settings
from core.reels.drafts import create_reel
from core.reels.script_drafts import DraftBrief, DraftError, apply_variation
from core.reels.script_model import ModelConfig, ScriptDrafter, model_config
from core.reels.validation import SceneInput
from core.runtime import get_runtime, reset_runtime
from tests.people import person, signed_in
from tests.reliability.test_secrets import dump_database, page_text

ROOT = Path(__file__).resolve().parents[2]
LLM_KEY = f"sk-proj-REL{uuid.uuid4().hex}{uuid.uuid4().hex[:10]}"
SECRET_PART = LLM_KEY[4:-4]
BRIEF = DraftBrief(topic="Keeping our shop's keys safe", audience="staff", tone="calm", language="English",
                   target_seconds=30, scenes=3)
PATH = "POST /v1/chat/completions"
ANA = person("ana")


def leaked(blob: str | bytes) -> bool:
    if isinstance(blob, bytes):
        return SECRET_PART.encode() in blob or SECRET_PART.encode("utf-16-le") in blob
    return SECRET_PART in blob


@pytest.fixture
def model_sandbox(sandbox_factory):
    """A sandbox whose chat endpoint accepts :data:`LLM_KEY` only."""
    return sandbox_factory(api_keys=(LLM_KEY,), render_media=False, slow_s=0.5)


def _arm(url: str, spec: str) -> None:
    requests.post(f"{url}/_sandbox/faults", json={"spec": spec}, timeout=10)


def exercise(url: str) -> list[BaseException]:
    """Successful and failing calls of every kind; returns the errors raised."""
    config = ModelConfig(f"{url}/v1", "gpt-test", LLM_KEY, timeout_s=5.0)
    drafter = ScriptDrafter(config, sleep=lambda _s: None)
    variation = drafter.draft(BRIEF)[0]
    drafter.revise(BRIEF, variation, "shorter")
    errors: list[BaseException] = []
    attempts = [
        (f"{PATH}:429=3x", drafter), (f"{PATH}:500=2x", drafter), (f"{PATH}:badcontent=2x", drafter),
        (f"{PATH}:badshape=2x", drafter), (f"{PATH}:badjson=2x", drafter),
        (f"{PATH}:slow=1x", ScriptDrafter(dataclasses.replace(config, timeout_s=0.2))),
        ("", ScriptDrafter(dataclasses.replace(config, api_key=LLM_KEY[::-1]))),
        ("", ScriptDrafter(dataclasses.replace(config, base_url="http://127.0.0.1:9/v1"))),
    ]
    for spec, who in attempts:
        _arm(url, spec)
        try:
            who.draft(BRIEF)
        except DraftError as exc:
            errors.append(exc)
    _arm(url, "")
    return errors


def error_texts(errors: list[BaseException]) -> str:
    return "\n".join(part for exc in errors for part in (
        str(exc), repr(exc), repr(exc.args), "".join(traceback.format_exception(exc)), repr(vars(exc)),
        repr(exc.__context__), repr(exc.__cause__)))


def test_model_key_never_in_logs_errors_or_reprs(model_sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    errors = exercise(model_sandbox.url)
    assert len(errors) == 8, errors  # every failing call failed, each as one DraftError
    assert not leaked(error_texts(errors))
    assert all(e.__context__ is None and e.__cause__ is None for e in errors)
    assert not leaked(caplog.text)
    assert any("openai" in r.name or "httpx" in r.name for r in caplog.records)  # the SDK's DEBUG logs were on
    settings = load_settings({"LLM_MODEL": "gpt-test", "LLM_API_KEY": LLM_KEY})
    assert not leaked(repr(settings)) and not leaked(repr(model_config(settings, None, "x")))
    assert not leaked(repr(ScriptDrafter(model_config(settings, None, "x"))))


def test_model_key_never_in_the_database(model_sandbox, engine, session_factory):
    drafter = ScriptDrafter(ModelConfig(f"{model_sandbox.url}/v1", "gpt-test", LLM_KEY))
    with session_factory() as session:
        reel = create_reel(session, actor=ANA, scenes=[SceneInput(n) for n in (1, 2, 3)])
        apply_variation(session, drafter.draft(BRIEF)[1], BRIEF, actor=ANA, reel_id=reel.id)
        session.commit()
    text = dump_database(engine)
    assert "Draft from a topic: Keeping our shop" in text  # the dump holds the draft
    assert not leaked(text)


@pytest.fixture
def model_runtime(model_sandbox, tmp_path, monkeypatch) -> Iterator[object]:
    """The app (sandbox HeyGen) with a configured chat model: the keyed sandbox's endpoint."""
    monkeypatch.setenv("LLM_MODEL", "gpt-test")
    monkeypatch.setenv("LLM_BASE_URL", f"{model_sandbox.url}/v1")
    monkeypatch.setenv("LLM_API_KEY", LLM_KEY)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.setenv("SANDBOX_PORT", "0")
    monkeypatch.setenv("WORKER_MODE", "off")
    for name in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL"):
        monkeypatch.delenv(name, raising=False)
    reset_runtime()
    runtime = get_runtime()
    assert runtime.script_model is not None and not runtime.script_model.sandbox
    yield runtime
    reset_runtime()


def test_model_key_never_on_compose_or_settings(model_runtime):
    import streamlit as st

    st.cache_data.clear()
    with model_runtime.session_factory() as session:
        rid = create_reel(session, actor=signed_in(session, "Ana"), scenes=[SceneInput(n) for n in (1, 2, 3)]).id
        session.commit()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["me"] = "Ana"
    at.query_params["c_reel"] = str(rid)
    at.run()
    at.switch_page("pages/3_Compose.py")
    at.run()
    at.text_area(key=f"sd_r{rid}_topic").input(BRIEF.topic)
    at.button(key=f"sd_r{rid}_ask").click().run()
    assert not at.exception
    assert at.button(key=f"sd_r{rid}_use_0")  # the model answered through the key
    _arm(model_runtime.settings.llm_base_url.removesuffix("/v1"), f"{PATH}:500=2x")
    at.button(key=f"sd_r{rid}_ask").click().run()
    assert any("HTTP 500" in e.value for e in at.error)
    _arm(model_runtime.settings.llm_base_url.removesuffix("/v1"), "")
    assert not leaked(page_text(at._tree)) and not leaked(repr(at.session_state.to_dict()))
    at.switch_page("pages/6_Settings.py")
    at.run()
    assert not at.exception
    text = page_text(at._tree)
    assert not leaked(text)
    assert LLM_KEY[:4] in text and LLM_KEY[-4:] in text  # the masked key is what the page shows
