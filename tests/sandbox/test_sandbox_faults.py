"""Fault injection: every kind is observable by a client; scoping, seeding and the job-level knobs."""

from __future__ import annotations

import time

import pytest
import requests

from core.sandbox import ShiftClock
from core.sandbox.faults import FaultPlan
from tests.sandbox.sandbox_support import Api


@pytest.fixture
def api(sandbox_factory) -> Api:
    return Api(sandbox_factory(render_media=False, slow_s=0.3).url)


def _arm(api: Api, spec: str) -> None:
    assert requests.post(api.url + "/_sandbox/faults", json={"spec": spec}, timeout=5).status_code == 200


@pytest.mark.parametrize("kind,code", [("401", "unauthorized"), ("402", "insufficient_credit"),
                                       ("429", "rate_limit_exceeded"), ("500", "internal_error"),
                                       ("503", "internal_error")])
def test_json_error_faults(api, kind, code) -> None:
    _arm(api, f"{kind}=1x")
    r = api.get("/v3/voices")
    assert r.status_code == int(kind) and r.json()["error"]["code"] == code
    if kind == "429":
        assert r.headers["Retry-After"] == "1"
    assert api.get("/v3/voices").status_code == 200  # only the next call


def test_gateway_faults_have_html_bodies(api) -> None:
    _arm(api, "502=1x,504=1x")
    for status in (502, 504):
        r = api.get("/v3/voices")
        assert r.status_code == status and r.text.startswith("<html>")


def test_drop_closes_the_connection(api) -> None:
    _arm(api, "drop=1x")
    with pytest.raises(requests.ConnectionError):
        requests.get(api.url + "/v3/voices", headers={"X-Api-Key": "sandbox-local-key"}, timeout=5)
    assert api.get("/v3/voices").status_code == 200


def test_badjson_is_200_with_a_truncated_body(api) -> None:
    _arm(api, "badjson=1x")
    r = api.get("/v3/voices")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_slow_delays_then_answers(api) -> None:
    _arm(api, "slow=1x")
    start = time.monotonic()
    assert api.get("/v3/voices").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_scoped_spec_hits_only_its_route_and_never_sandbox_routes(api) -> None:
    _arm(api, "GET /v3/videos/statuses:500=1.0")
    assert api.get("/v3/voices").status_code == 200
    assert api.get("/v3/videos/statuses", params={"video_ids": "a" * 32}).status_code == 500
    _arm(api, "500=1.0")
    assert requests.get(api.url + "/_sandbox/stats", timeout=5).status_code == 200
    assert api.stats()["requests"]["GET /v3/videos/statuses"] == 1


def test_probabilities_are_reproducible_with_a_seed() -> None:
    spec = "429=0.2,500=0.2,slow=0.1;POST /v3/videos:503=0.5"
    plans = [FaultPlan(spec, seed=7), FaultPlan(spec, seed=7)]
    runs = [[plan.pick("GET", "/v3/voices") for _ in range(200)] for plan in plans]
    assert runs[0] == runs[1]
    assert 20 < runs[0].count("429") < 70 and runs[0].count(None) > 60
    assert FaultPlan("GET /v3/videos:500=1.0", seed=1).pick("GET", "/v3/voices") is None
    with pytest.raises(ValueError):
        FaultPlan("teapot=0.5")


def test_stuck_job_stays_processing_until_deleted(api) -> None:
    requests.post(api.url + "/_sandbox/faults", json={"stuck_next": 1}, timeout=5)
    stuck = api.create().json()["data"]["video_id"]
    normal = api.create().json()["data"]["video_id"]
    assert api.wait(normal)["status"] == "completed"
    assert api.get(f"/v3/videos/{stuck}").json()["data"]["status"] == "processing"
    assert api.delete(f"/v3/videos/{stuck}").status_code == 200


def test_links_expire_after_seven_days_and_signatures_are_checked(sandbox_factory) -> None:
    clock = ShiftClock()
    api = Api(sandbox_factory(clock=clock).url)
    data = api.wait(api.create().json()["data"]["video_id"])
    assert requests.get(data["video_url"], timeout=10).status_code == 200
    assert requests.get(data["video_url"].replace("Signature=", "Signature=0"), timeout=5).status_code == 403
    clock.advance(604_800 + 10)
    assert requests.get(data["video_url"], timeout=5).status_code == 403
    fresh = api.get(f"/v3/videos/{data['id']}").json()["data"]["video_url"]
    assert fresh != data["video_url"] and requests.get(fresh, timeout=10).status_code == 200


def test_expire_urls_knob_issues_dead_links(api) -> None:
    data = api.wait(api.create().json()["data"]["video_id"])
    requests.post(api.url + "/_sandbox/faults", json={"expire_urls": True}, timeout=5)
    url = api.get(f"/v3/videos/{data['id']}").json()["data"]["thumbnail_url"]
    r = requests.get(url, timeout=5)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
