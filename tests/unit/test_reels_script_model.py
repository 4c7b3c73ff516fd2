"""The drafting client against a mocked chat-completions endpoint.

The ``openai`` SDK speaks httpx2 (the successor of httpx), which ``responses`` (a ``requests`` mock)
cannot intercept, so HTTP is mocked with ``httpx2.MockTransport`` handed to the SDK as its
``http_client``; integration tests use the real sandbox over loopback instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from core.reels.script_drafts import (
    DraftBrief,
    DraftError,
    DraftInputError,
    brief_problems,
    language_warning,
    scene_budgets,
    variation_seconds,
)
from core.reels.script_model import ModelConfig, ScriptDrafter

KEY = "sk-unit-0123456789abcdefSECRETPART9876"
BRIEF = DraftBrief(topic="Why our bakery opens at six", audience="new staff", tone="warm", language="English",
                   target_seconds=60, scenes=3)


def _reply(variations: int = 3, scenes: int = 3, words: int = 50) -> dict[str, Any]:
    script = " ".join(["word"] * words) + "."
    return {"variations": [{"title": f"V{v}", "scenes": [{"script": script} for _ in range(scenes)]}
                           for v in range(variations)]}


def _completion(content: str, finish: str = "stop") -> httpx2.Response:
    return httpx2.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
    })


class Endpoint:
    """A scripted endpoint: each request gets the next answer (a Response, or an exception to raise)."""

    def __init__(self, *answers: httpx2.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def body(self, n: int = 0) -> dict[str, Any]:
        return json.loads(self.requests[n].content)


def drafter(endpoint: Endpoint, sleeps: list[float] | None = None, timeout_s: float = 5.0) -> ScriptDrafter:
    config = ModelConfig("http://127.0.0.1:9/v1", "gpt-test", KEY, timeout_s)
    record: Callable[[float], None] = (sleeps.append if sleeps is not None else lambda _s: None)
    return ScriptDrafter(config, http_client=httpx2.Client(transport=httpx2.MockTransport(endpoint)), sleep=record)


def test_success_sends_a_schema_bound_brief_and_returns_three_variations() -> None:
    endpoint = Endpoint(_completion(json.dumps(_reply())))
    variations = drafter(endpoint).draft(BRIEF)
    assert [v.title for v in variations] == ["V0", "V1", "V2"]
    assert all(len(v.scenes) == 3 for v in variations)
    request = endpoint.requests[0]
    assert request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = endpoint.body()
    assert body["model"] == "gpt-test"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["variations"]
    brief = json.loads(body["messages"][-1]["content"])
    # 60 s over 3 scenes at 150 words per minute: 50 words each
    assert brief["scene_budgets"] == [50, 50, 50] and brief["budget_unit"] == "words"
    assert brief["topic"] == BRIEF.topic and brief["variations"] == 3
    assert 0 < body["max_tokens"] <= 16_000


def test_429_waits_the_retry_after_then_asks_again() -> None:
    sleeps: list[float] = []
    endpoint = Endpoint(httpx2.Response(429, headers={"Retry-After": "3"}, json={"error": {"message": "slow down"}}),
                        _completion(json.dumps(_reply())))
    assert len(drafter(endpoint, sleeps).draft(BRIEF)) == 3
    assert sleeps == [3.0] and len(endpoint.requests) == 2


def test_429_with_a_long_retry_after_is_reported_at_once() -> None:
    sleeps: list[float] = []
    endpoint = Endpoint(httpx2.Response(429, headers={"Retry-After": "120"}, json={"error": {"message": "quota"}}))
    with pytest.raises(DraftError, match="rate-limited; try again in 120 seconds"):
        drafter(endpoint, sleeps).draft(BRIEF)
    assert sleeps == [] and len(endpoint.requests) == 1


def test_500_is_retried_once_then_reported() -> None:
    sleeps: list[float] = []
    endpoint = Endpoint(httpx2.Response(500, json={"error": {"message": "boom"}}),
                        httpx2.Response(500, json={"error": {"message": "boom"}}))
    with pytest.raises(DraftError, match=r"failed twice \(HTTP 500\)"):
        drafter(endpoint, sleeps).draft(BRIEF)
    assert len(endpoint.requests) == 2 and sleeps == [1.0]


def test_500_then_success_returns_the_draft() -> None:
    endpoint = Endpoint(httpx2.Response(503, text="busy"), _completion(json.dumps(_reply())))
    assert len(drafter(endpoint).draft(BRIEF)) == 3


def test_timeout_is_one_sentence_naming_the_limit() -> None:
    endpoint = Endpoint(httpx2.ReadTimeout("read timed out"))
    with pytest.raises(DraftError, match="did not answer within 7 seconds") as info:
        drafter(endpoint, timeout_s=7).draft(BRIEF)
    assert len(endpoint.requests) == 1 and info.value.__cause__ is None


def test_invalid_json_body_is_asked_for_again() -> None:
    good = json.dumps(_reply())
    broken = httpx2.Response(200, content=b'{"id": "chatcmpl-1", "choices": [{"mess',
                            headers={"content-type": "application/json"})
    endpoint = Endpoint(broken, _completion(good))
    assert len(drafter(endpoint).draft(BRIEF)) == 3
    assert len(endpoint.requests) == 2


def test_content_that_is_not_json_twice_is_reported() -> None:
    endpoint = Endpoint(_completion("Sure! Here are three scripts."), _completion("Here you go: ..."))
    with pytest.raises(DraftError, match=r"not a usable draft twice in a row \(it was not JSON\)"):
        drafter(endpoint).draft(BRIEF)


def test_wrong_shape_is_retried_with_the_reason_in_the_system_message() -> None:
    endpoint = Endpoint(_completion(json.dumps({"drafts": [{"text": "hi"}]})), _completion(json.dumps(_reply())))
    assert len(drafter(endpoint).draft(BRIEF)) == 3
    first, second = endpoint.body(0)["messages"][0]["content"], endpoint.body(1)["messages"][0]["content"]
    assert "previous reply was unusable because variations" in second and "previous" not in first
    assert endpoint.body(0)["messages"][-1] == endpoint.body(1)["messages"][-1]  # the same brief


@pytest.mark.parametrize(("reply", "reason"), [
    (_reply(variations=2), "it had 2 variations instead of 3"),
    (_reply(scenes=4), "variation 1 had 4 scenes instead of 3"),
    ({"variations": [{"title": "x", "scenes": [{"script": "a" * 5_001}] * 3}] * 3}, "at most 5000 characters"),
    ({"variations": [{"title": "x", "scenes": [{"script": "  "}] * 3}] * 3}, "at least 1 character"),
])
def test_replies_breaking_the_limits_are_refused(reply: dict, reason: str) -> None:
    endpoint = Endpoint(_completion(json.dumps(reply)), _completion(json.dumps(reply)))
    with pytest.raises(DraftError, match=reason):
        drafter(endpoint).draft(BRIEF)
    assert len(endpoint.requests) == 2


def test_a_reply_cut_at_the_length_limit_is_not_used() -> None:
    endpoint = Endpoint(_completion('{"variations": [', finish="length"), _completion(json.dumps(_reply())))
    assert len(drafter(endpoint).draft(BRIEF)) == 3


def test_long_titles_are_cut_not_refused() -> None:
    reply = _reply()
    reply["variations"][0]["title"] = "A very long title\n" + "x" * 500
    variation = drafter(Endpoint(_completion(json.dumps(reply)))).draft(BRIEF)[0]
    assert variation.title == ("A very long title " + "x" * 500)[:200]


def test_control_characters_are_removed_from_scripts() -> None:
    reply = _reply()
    reply["variations"][0]["scenes"][0]["script"] = "Hello\x07 there.\r\nBye."
    variation = drafter(Endpoint(_completion(json.dumps(reply)))).draft(BRIEF)[0]
    assert variation.scripts[0] == "Hello there.\nBye."


def test_rejected_key_is_named_without_the_key() -> None:
    endpoint = Endpoint(httpx2.Response(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    with pytest.raises(DraftError) as info:
        drafter(endpoint).draft(BRIEF)
    assert "check LLM_API_KEY" in str(info.value)
    assert "SECRETPART" not in str(info.value) and info.value.__cause__ is None and info.value.__context__ is None


def test_unreachable_server_names_the_host_only() -> None:
    endpoint = Endpoint(httpx2.ConnectError("connection refused"))
    with pytest.raises(DraftError, match="at 127.0.0.1 could not be reached"):
        drafter(endpoint).draft(BRIEF)


def test_revise_sends_the_variation_and_instruction() -> None:
    original = drafter(Endpoint(_completion(json.dumps(_reply())))).draft(BRIEF)[1]
    endpoint = Endpoint(_completion(json.dumps(_reply(variations=1, words=30))))
    revised = drafter(endpoint).revise(BRIEF, original, "shorter")
    brief = json.loads(endpoint.body()["messages"][-1]["content"])
    assert brief["task"] == "revise" and brief["instruction"] == "shorter"
    assert brief["variation"]["title"] == "V1" and len(brief["variation"]["scenes"]) == 3
    assert revised.scripts[0].count("word") == 30


def test_revise_needs_an_instruction() -> None:
    endpoint = Endpoint()
    with pytest.raises(DraftInputError, match="Say how to revise"):
        drafter(endpoint).revise(BRIEF, drafter(Endpoint(_completion(json.dumps(_reply())))).draft(BRIEF)[0], " ")
    assert endpoint.requests == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"topic": ""}, "Write a topic"),
    ({"topic": "x" * 10_000}, "The topic is 10,000 characters; keep it to 500."),
    ({"target_seconds": 0}, "between 5 seconds and 15 minutes; 0 s is not"),
    ({"target_seconds": 7200}, "between 5 seconds and 15 minutes; 7200 s is not"),
    ({"scenes": 0}, "A reel has 1 to 50 scenes; 0 is not."),
    ({"scenes": 51}, "A reel has 1 to 50 scenes; 51 is not."),
    ({"target_seconds": 900, "scenes": 2}, "use at least 3 scenes"),
    ({"language": ""}, "Choose the language"),
])
def test_bad_briefs_are_refused_before_any_request(changes: dict, message: str) -> None:
    import dataclasses

    brief = dataclasses.replace(BRIEF, **changes)
    assert any(message in p for p in brief_problems(brief))
    endpoint = Endpoint()
    with pytest.raises(DraftInputError, match=message):
        drafter(endpoint).draft(brief)
    assert endpoint.requests == []


def test_budgets_follow_voice_speed_and_writing_system() -> None:
    import dataclasses

    fast = dataclasses.replace(BRIEF, target_seconds=30, scenes=2, speeds=(1.5, 0.5))
    assert scene_budgets(fast) == [56, 19]  # 15 s × 2.5 words/s = 37.5 words, × 1.5 and × 0.5, rounded
    japanese = dataclasses.replace(BRIEF, language="Japanese", target_seconds=20, scenes=2)
    assert scene_budgets(japanese) == [40, 40]  # 10 s × 4 characters/s


def test_variation_seconds_match_the_compose_estimate() -> None:
    variation = drafter(Endpoint(_completion(json.dumps(_reply(words=25))))).draft(BRIEF)[0]
    assert variation_seconds(variation, BRIEF) == [10.0, 10.0, 10.0]  # 25 words at 150 wpm


def test_language_warning_names_the_voices() -> None:
    voices = [("Ivy", "English"), ("Rex", "German"), ("Ana", "Spanish"), ("Rex", "German")]
    assert language_warning("English", voices) == (
        "Rex and Ana do not speak English; pick voices that do, or the scripts will be read in the wrong accent.")
    assert language_warning("English", [("Ivy", "English")]) is None
    assert language_warning("german", [("Ivy", "English")]).startswith("Ivy does not speak german")


def test_the_key_is_not_in_the_config_repr() -> None:
    assert "SECRETPART" not in repr(ModelConfig("http://127.0.0.1:9/v1", "m", KEY))
