"""The sandbox's OpenAI-compatible ``POST /v1/chat/completions``, through the real ``openai`` SDK client."""

from __future__ import annotations

import dataclasses
import json

import pytest
import requests

from core.config import SANDBOX_API_KEY
from core.reels.estimate import estimate_script_seconds
from core.reels.script_drafts import DraftBrief, DraftError, variation_seconds
from core.reels.script_model import SANDBOX_MODEL, ModelConfig, ScriptDrafter

BRIEF = DraftBrief(topic="Opening a bakery account in three steps", audience="small shop owners", tone="friendly",
                   language="English", target_seconds=45, scenes=3)
PATH = "POST /v1/chat/completions"


@pytest.fixture
def server(sandbox_factory):
    return sandbox_factory(render_media=False, slow_s=0.6)


def make(server, key: str = SANDBOX_API_KEY, timeout_s: float = 5.0, sleeps: list | None = None) -> ScriptDrafter:
    config = ModelConfig(f"{server.url}/v1", SANDBOX_MODEL, key, timeout_s, sandbox=True)
    return ScriptDrafter(config, sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def arm(server, spec: str) -> None:
    assert requests.post(server.url + "/_sandbox/faults", json={"spec": spec}, timeout=5).status_code == 200


def test_three_distinct_variations_sized_to_the_target(server) -> None:
    variations = make(server).draft(BRIEF)
    assert len(variations) == 3 and all(len(v.scenes) == 3 for v in variations)
    assert len({tuple(v.scripts) for v in variations}) == 3
    assert len({v.title for v in variations}) == 3
    for variation in variations:
        seconds = sum(estimate_script_seconds(s) for s in variation.scripts)
        assert abs(seconds - 45) <= 45 * 0.1, (variation.title, seconds)
        assert variation_seconds(variation, BRIEF) == [estimate_script_seconds(s) for s in variation.scripts]
        assert "Opening a bakery account" in " ".join(variation.scripts)


def test_equal_briefs_give_equal_drafts(server) -> None:
    first, second = make(server).draft(BRIEF), make(server).draft(BRIEF)
    assert [v.model_dump() for v in first] == [v.model_dump() for v in second]
    other = make(server).draft(dataclasses.replace(BRIEF, topic="Closing the shop safely at night"))
    assert [v.scripts for v in other] != [v.scripts for v in first]


def test_the_chosen_language_and_speed_are_followed(server) -> None:
    spanish = make(server).draft(dataclasses.replace(BRIEF, language="Spanish"))[0]
    assert "Hablemos de" in " ".join(spanish.scripts)
    fast = dataclasses.replace(BRIEF, speeds=(1.5, 1.5, 1.5))
    for variation in make(server).draft(fast):
        assert abs(sum(variation_seconds(variation, fast)) - 45) <= 4.5


def test_japanese_is_budgeted_in_characters(server) -> None:
    japanese = dataclasses.replace(BRIEF, language="Japanese", topic="予約アプリ", audience="店主")
    for variation in make(server).draft(japanese):
        assert "予約アプリ" in "".join(variation.scripts) and " " not in "".join(variation.scripts)
        assert abs(sum(variation_seconds(variation, japanese)) - 45) <= 4.5  # 4 characters per second


def test_revision_shorter_is_shorter_and_keeps_the_scene_count(server) -> None:
    drafter = make(server)
    original = drafter.draft(BRIEF)[2]
    revised = drafter.revise(BRIEF, original, "shorter")
    assert len(revised.scenes) == 3 and "revised: shorter" in revised.title
    assert sum(variation_seconds(revised, BRIEF)) < 0.8 * sum(variation_seconds(original, BRIEF))


def test_many_long_scenes_stay_within_heygen_limits(server) -> None:
    brief = dataclasses.replace(BRIEF, target_seconds=900, scenes=50)
    variations = make(server, timeout_s=30).draft(brief)
    assert all(len(v.scenes) == 50 and max(len(s) for s in v.scripts) <= 5_000 for v in variations)


def test_429_is_waited_out_with_the_retry_after(server) -> None:
    arm(server, f"{PATH}:429=1x")
    sleeps: list[float] = []
    assert len(make(server, sleeps=sleeps).draft(BRIEF)) == 3
    assert sleeps == [1.0]  # the sandbox's Retry-After


def test_500_twice_is_reported(server) -> None:
    arm(server, f"{PATH}:500=2x")
    drafter = make(server)
    with pytest.raises(DraftError, match=r"HTTP 500"):
        drafter.draft(BRIEF)
    assert drafter.calls == 2


def test_timeout_is_reported(server) -> None:
    arm(server, f"{PATH}:slow=1x")
    with pytest.raises(DraftError, match="did not answer within 0.2 seconds"):
        make(server, timeout_s=0.2).draft(BRIEF)


@pytest.mark.parametrize("kind", ["badjson", "badcontent", "badshape"])
def test_one_bad_reply_is_asked_for_again(server, kind: str) -> None:
    arm(server, f"{PATH}:{kind}=1x")
    drafter = make(server)
    assert len(drafter.draft(BRIEF)) == 3
    assert drafter.calls == 2


@pytest.mark.parametrize(("kind", "reason"), [("badcontent", "it was not JSON"), ("badshape", "variations")])
def test_two_bad_replies_are_reported(server, kind: str, reason: str) -> None:
    arm(server, f"{PATH}:{kind}=2x")
    with pytest.raises(DraftError, match=f"twice in a row \\({reason}"):
        make(server).draft(BRIEF)


def test_a_wrong_key_is_refused(server) -> None:
    with pytest.raises(DraftError, match="did not accept the API key"):
        make(server, key="not-the-sandbox-key").draft(BRIEF)


def test_the_endpoint_speaks_openai_shapes(server) -> None:
    headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
    r = requests.post(server.url + "/v1/chat/completions", headers=headers, timeout=5,
                      json={"model": "x", "messages": [{"role": "user", "content": "Write me a poem"}]})
    body = r.json()
    assert r.status_code == 200 and body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert "JSON brief" in body["choices"][0]["message"]["content"]
    missing = requests.post(server.url + "/v1/chat/completions", headers=headers, json={"messages": []}, timeout=5)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "model"
    huge = {"model": "x", "messages": [{"role": "user", "content": "a" * 1_100_000}]}
    assert requests.post(server.url + "/v1/chat/completions", headers=headers, json=huge,
                         timeout=10).status_code == 413
    assert requests.post(server.url + "/v1/chat/completions", json={"model": "x"}, timeout=5).status_code == 401
    counted = requests.get(server.url + "/_sandbox/stats", timeout=5).json()["requests"]
    assert counted[PATH] == 4


def test_the_reply_content_is_json_matching_the_brief(server) -> None:
    brief = {"task": "draft", "topic": "Tea", "language": "French", "variations": 2, "scene_budgets": [12, 30],
             "budget_unit": "words"}
    r = requests.post(server.url + "/v1/chat/completions", headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"},
                      json={"model": "x", "messages": [{"role": "user", "content": json.dumps(brief)}]}, timeout=5)
    doc = json.loads(r.json()["choices"][0]["message"]["content"])
    assert len(doc["variations"]) == 2
    counts = [[len(s["script"].split()) for s in v["scenes"]] for v in doc["variations"]]
    assert counts == [[12, 30], [12, 30]]
    assert "Parlons de Tea" in " ".join(s["script"] for s in doc["variations"][0]["scenes"])
