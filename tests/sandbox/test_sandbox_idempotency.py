"""``Idempotency-Key`` on ``POST /v3/videos``: replay, scope, bad keys, concurrent duplicates."""

from __future__ import annotations

import threading

from tests.sandbox.sandbox_support import Api, scene, studio_body


def test_same_key_replays_the_first_response_even_with_another_body(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=1000).url)
    first = api.create(key="reel-1:attempt-1")
    second = api.create(studio_body(scene("Something else entirely.")), key="reel-1:attempt-1")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    stats = api.stats()
    assert stats["videos_created"] == 1 and stats["idempotent_replays"] == 1
    assert api.create(key="reel-2").json()["data"]["video_id"] != first.json()["data"]["video_id"]


def test_key_scope_is_per_api_key(sandbox_factory) -> None:
    server = sandbox_factory(api_keys=("alice", "bob"), time_scale=1000)
    a = Api(server.url, "alice").create(key="same").json()["data"]["video_id"]
    b = Api(server.url, "bob").create(key="same").json()["data"]["video_id"]
    assert a != b


def test_bad_key_is_400_naming_the_header(sandbox) -> None:
    api = Api(sandbox.url)
    for key in ("has space", "x" * 256, "ümlaut"):
        r = api.post("/v3/videos", json=studio_body(), headers={"Idempotency-Key": key.encode("utf-8")})
        assert r.status_code == 400 and r.json()["error"]["param"] == "Idempotency-Key"


def test_failed_first_attempt_does_not_burn_the_key(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=1000).url)
    assert api.create(studio_body(scene(voice_id="nope")), key="k1").status_code == 400
    assert api.create(key="k1").status_code == 200


def test_concurrent_duplicate_gets_409_request_in_progress(sandbox_factory) -> None:
    api = Api(sandbox_factory(time_scale=1000, create_latency_s=0.5).url)
    results = {}

    def first() -> None:
        results["first"] = Api(api.url).create(key="dup")

    thread = threading.Thread(target=first)
    thread.start()
    while api.stats()["requests"].get("POST /v3/videos", 0) < 1:
        pass
    second = api.create(key="dup")
    thread.join()
    assert second.status_code == 409 and second.json()["error"]["code"] == "request_in_progress"
    assert results["first"].status_code == 200
    third = api.create(key="dup")
    assert third.json() == results["first"].json()
    assert api.stats()["videos_created"] == 1
