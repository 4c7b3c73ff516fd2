"""Webhook delivery checks: every known signature header, the timestamp window, event-id replays."""

from __future__ import annotations

import pytest

from core.jobs.webhook_checks import (
    MAX_SKEW_S,
    EventIds,
    event_id,
    header_names,
    sign,
    timestamp_problem,
    verify_signature,
)

SECRET = "whsec_test_secret_value"
BODY = b'{"event_type": "avatar_video.success", "event_data": {"video_id": "v1"}}'


@pytest.mark.parametrize("name", ["Heygen-Signature", "heygen-signature", "X-HeyGen-Signature", "Signature"])
def test_each_known_signature_header_is_accepted(name: str) -> None:
    assert verify_signature(BODY, {name: sign(BODY, SECRET)}, SECRET)
    assert verify_signature(BODY, {name: "sha256=" + sign(BODY, SECRET).upper()}, SECRET)


def test_wrong_or_missing_signature_or_secret_is_refused() -> None:
    assert not verify_signature(BODY, {"Heygen-Signature": sign(BODY + b" ", SECRET)}, SECRET)
    assert not verify_signature(BODY, {"Other-Signature": sign(BODY, SECRET)}, SECRET)
    assert not verify_signature(BODY, {"Heygen-Signature": sign(BODY, SECRET)}, None)
    assert not verify_signature(BODY, {"Heygen-Signature": "é" * 64}, SECRET)


def test_timestamp_window() -> None:
    now = 1_800_000_000.0
    assert timestamp_problem({}, now) is None
    assert timestamp_problem({"Heygen-Timestamp": str(int(now - MAX_SKEW_S + 1))}, now) is None
    assert timestamp_problem({"Heygen-Timestamp": str(int(now + MAX_SKEW_S - 1))}, now) is None
    assert "300 s" in timestamp_problem({"Heygen-Timestamp": str(int(now - MAX_SKEW_S - 1))}, now)
    assert "300 s" in timestamp_problem({"heygen-timestamp": str(int(now + 3600))}, now)
    assert "Unix time" in timestamp_problem({"Heygen-Timestamp": "yesterday"}, now)


def test_event_id_from_header_or_body_and_mismatch() -> None:
    assert event_id({"Heygen-Event-Id": "evt_1"}, {}) == ("evt_1", None)
    assert event_id({}, {"event_id": "evt_2"}) == ("evt_2", None)
    assert event_id({"Heygen-Event-Id": "evt_1"}, {"event_id": "evt_1"}) == ("evt_1", None)
    assert event_id({}, {}) == (None, None)
    got, problem = event_id({"Heygen-Event-Id": "evt_1"}, {"event_id": "evt_9"})
    assert got is None and "does not match" in problem


def test_repeated_event_id_is_seen_once_until_it_expires() -> None:
    now = [0.0]
    ids = EventIds(ttl_s=60, size=3, clock=lambda: now[0])
    assert ids.first_time("a") and not ids.first_time("a")
    now[0] = 61
    assert ids.first_time("a")
    ids.forget("a")
    assert ids.first_time("a")


def test_memory_is_bounded() -> None:
    ids = EventIds(ttl_s=3600, size=3, clock=lambda: 0.0)
    for name in "abcd":
        assert ids.first_time(name)
    assert ids.first_time("a")  # forgotten as the oldest when "d" arrived
    assert not ids.first_time("d")


def test_header_names_never_values() -> None:
    names = header_names({"Heygen-Signature": "abc123", "Content-Type": "application/json"})
    assert names == ["content-type", "heygen-signature"]
