"""Cache and retry policy of the HeyGen HTTP session (requests-cache + urllib3 Retry)."""

from __future__ import annotations

import email.utils
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import redis
import responses
import urllib3.util.retry as retry_module
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from core.heygen.session import (
    RETRY_AFTER_MAX_S,
    HeyGenRetry,
    build_retry,
    build_session,
    canonical_url,
)

SECRET = "sk_V2_live_0123456789abcdefSECRET"
LIVE = "https://api.heygen.com"
VOICES_BODY = {"data": [{"voice_id": "v1", "name": "Ivy"}], "has_more": False, "next_token": None}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def fake_response(headers: dict[str, str]):
    """The part of a urllib3 response that ``Retry.sleep`` reads."""
    return SimpleNamespace(headers=headers)


# -- cache keys ------------------------------------------------------------------------------

def test_canonical_url_unifies_loopback_names_but_keeps_the_port():
    a = canonical_url("http://127.0.0.1:8787/v3/voices?limit=100")
    b = canonical_url("http://localhost:8787/v3/voices?limit=100")
    assert a == b == "http://127.0.0.1:8787/v3/voices?limit=100"
    assert canonical_url("http://127.0.0.1:51234/v3/voices?limit=100") != a


def test_canonical_url_keeps_live_host_apart_from_sandbox():
    live = canonical_url("https://api.heygen.com/v3/voices?limit=100")
    assert live == "https://api.heygen.com/v3/voices?limit=100"
    assert live != canonical_url("http://127.0.0.1:9/v3/voices?limit=100")


def test_cache_key_is_per_account_and_per_sandbox_port_but_not_per_loopback_name():
    session = build_session(None, catalog_ttl_s=60)
    import requests

    def key(url, api_key):
        request = requests.Request("GET", url, headers={"X-Api-Key": api_key}, params={"limit": 100}).prepare()
        return session.cache.create_key(request)

    assert key("http://127.0.0.1:1111/v3/voices", "a") == key("http://localhost:1111/v3/voices", "a")
    assert key("http://127.0.0.1:1111/v3/voices", "a") != key("http://127.0.0.1:1111/v3/voices", "b")
    assert key("http://127.0.0.1:1111/v3/voices", "a") != key("http://127.0.0.1:2222/v3/voices", "a")
    assert key("http://127.0.0.1:1111/v3/voices", "a") != key(LIVE + "/v3/voices", "a")


# -- expiry rules ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "calls"), [
    ("/v3/voices", 1),
    ("/v3/avatars/looks", 1),
    ("/v3/avatars/looks/Abigail_1", 1),
    ("/v3/users/me", 1),
    ("/v3/videos/abc", 2),
    ("/v3/videos/statuses", 2),
    ("/v3/webhooks/endpoints", 2),
    ("/v3/assets", 2),
])
def test_which_urls_are_cached(mocked, path, calls):
    mocked.get(LIVE + path, json={"data": []})
    session = build_session(None, catalog_ttl_s=3600)
    for _ in range(2):
        assert session.get(LIVE + path).status_code == 200
    assert len(mocked.calls) == calls


def test_post_is_never_cached(mocked):
    mocked.post(LIVE + "/v3/voices/speech", json={"data": {"audio_url": "u", "duration": 1}})
    session = build_session(None, catalog_ttl_s=3600)
    session.post(LIVE + "/v3/voices/speech", json={"text": "a"})
    session.post(LIVE + "/v3/voices/speech", json={"text": "a"})
    assert len(mocked.calls) == 2


def test_expired_catalog_is_served_when_heygen_fails(mocked):
    session = build_session(None, catalog_ttl_s=3600)
    url = LIVE + "/v3/voices?limit=100"
    mocked.get(LIVE + "/v3/voices", json=VOICES_BODY)
    first = session.get(url)
    key = session.cache.create_key(first.request)
    cached = session.cache.get_response(key)
    session.cache.save_response(cached, key, datetime.now(UTC) - timedelta(seconds=1))
    mocked.replace(responses.GET, LIVE + "/v3/voices", status=500, body="<html>down</html>")
    stale = session.get(url)
    assert stale.from_cache and stale.is_expired
    assert stale.json() == VOICES_BODY


def test_sqlite_file_is_created_in_a_new_folder_and_never_holds_the_key(mocked, tmp_path):
    path = tmp_path / "nested" / "cache" / "http_cache_live.sqlite"
    mocked.get(LIVE + "/v3/voices", json=VOICES_BODY)
    session = build_session(str(path), catalog_ttl_s=3600)
    for spelling in ("X-Api-Key", "x-api-key", "X-API-KEY"):
        session.get(LIVE + "/v3/voices", headers={spelling: SECRET}, params={"limit": 100, "s": spelling})
    session.get(LIVE + "/v3/voices", headers={"Authorization": f"Bearer {SECRET}"}, params={"limit": 1})
    assert len(mocked.calls) == 4
    assert len(session.cache.responses) == 4
    session.close()
    files = list(path.parent.iterdir())
    assert path in files
    for file in files:
        data = file.read_bytes()
        assert SECRET.encode() not in data
        assert SECRET[-12:].encode() not in data


def redis_url() -> str:
    url = os.environ.get("HTTP_CACHE_URL", "")
    return url if url.startswith("redis") else "redis://127.0.0.1:6379/15"


@pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning")
def test_redis_cache_never_holds_the_key(mocked):
    connection = redis.Redis.from_url(redis_url())
    connection.flushdb()
    mocked.get(LIVE + "/v3/voices", json=VOICES_BODY)
    session = build_session(redis_url(), catalog_ttl_s=3600)
    session.get(LIVE + "/v3/voices", headers={"X-Api-Key": SECRET}, params={"limit": 100})
    session.get(LIVE + "/v3/voices", headers={"X-Api-Key": SECRET}, params={"limit": 100})
    assert len(mocked.calls) == 1
    keys = connection.keys("*")
    assert keys
    for key in keys:
        assert SECRET.encode() not in key
        for value in redis_values(connection, key):
            assert SECRET.encode() not in value
    connection.flushdb()


def redis_values(connection: redis.Redis, key: bytes) -> list[bytes]:
    """Raw stored bytes of a key (strings and hashes; ``DUMP`` would be compressed)."""
    kind = connection.type(key)
    if kind == b"string":
        return [connection.get(key)]
    if kind == b"hash":
        return list(connection.hgetall(key).values())
    raise AssertionError(f"unexpected Redis type {kind!r}")


# -- retries ---------------------------------------------------------------------------------

def test_retry_policy_values():
    retry = build_retry(2)
    assert retry.total == 2
    assert retry.retry_after_max == RETRY_AFTER_MAX_S == 30
    assert retry.raise_on_status is False
    assert retry.respect_retry_after_header is True


@pytest.mark.parametrize(("method", "status", "expected"), [
    ("POST", 429, True), ("GET", 429, True), ("DELETE", 429, True),
    ("GET", 500, True), ("GET", 503, True), ("DELETE", 502, True),
    ("POST", 500, False), ("POST", 503, False), ("GET", 400, False), ("GET", 404, False),
])
def test_which_answers_are_retried(method, status, expected):
    assert build_retry(2).is_retry(method, status, has_retry_after=False) is expected


def test_connection_error_retried_for_get_but_not_for_post():
    error = NewConnectionError(None, "refused")
    retry = build_retry(2)
    assert retry.increment("GET", "/v3/voices", error=error).total == 1
    with pytest.raises(MaxRetryError):
        retry.increment("POST", "/v3/videos", error=error)


def test_read_errors_are_retried_for_get_but_never_for_post():
    error = ReadTimeoutError(None, "/v3/voices", "slow")
    assert build_retry(2).increment("GET", "/v3/voices", error=error).total == 1
    with pytest.raises((ReadTimeoutError, MaxRetryError)):
        build_retry(2).increment("POST", "/v3/videos", error=ReadTimeoutError(None, "/v3/videos", "slow"))


def test_retries_run_out_after_max_retries():
    retry = build_retry(2)
    retry = retry.increment("GET", "/v3/voices", response=None)
    retry = retry.increment("GET", "/v3/voices", response=None)
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/v3/voices", response=None)


@pytest.mark.parametrize(("header", "expected"), [("2", 2), ("30", 30), ("120", 30), ("86400", 30)])
def test_retry_after_seconds_are_capped_at_30(monkeypatch, header, expected):
    slept: list[float] = []
    monkeypatch.setattr(retry_module.time, "sleep", slept.append)
    build_retry(2).sleep(fake_response({"Retry-After": header}))
    assert slept == [expected]


def test_retry_after_http_date_is_capped_at_30():
    in_ten_minutes = email.utils.formatdate(time.time() + 600, usegmt=True)
    assert build_retry(2).parse_retry_after(in_ten_minutes) == 30
    soon = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 5 <= build_retry(2).parse_retry_after(soon) <= 10


def test_backoff_doubles_with_jitter_and_is_capped():
    retry = build_retry(10)
    assert retry.get_backoff_time() == 0
    waits = []
    for _ in range(7):
        retry = retry.increment("GET", "/v3/voices", response=None)
        waits.append(retry.get_backoff_time())
    assert 0.75 <= waits[0] <= 1.25
    assert 1.5 <= waits[1] <= 2.5
    assert 3.0 <= waits[2] <= 5.0
    assert waits[-1] == 30


def test_backoff_sleep_without_retry_after(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(retry_module.time, "sleep", slept.append)
    retry = build_retry(2).increment("GET", "/v3/voices", response=None)
    retry.sleep(fake_response({}))
    assert len(slept) == 1 and 0.75 <= slept[0] <= 1.25


def test_retry_subclass_survives_increment():
    assert isinstance(build_retry(2).increment("GET", "/x", response=None), HeyGenRetry)
