"""HeyGenClient against mocked HTTP: pagination, caching, retries, idempotent creates, media."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

import core.heygen.client as client_module
from core.heygen import (
    HeyGenClient,
    NetworkError,
    PermissionDeniedError,
    RateLimitError,
    RequestInProgressError,
    ServerError,
)

SECRET = "sk_V2_live_0123456789abcdefSECRET"
LIVE = "https://api.heygen.com"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def ordered():
    with responses.RequestsMock(assert_all_requests_are_fired=False, registry=OrderedRegistry) as rsps:
        yield rsps


@pytest.fixture(autouse=True)
def slept(monkeypatch):
    """Waits of the client's own idempotent-POST retries (nothing really sleeps)."""
    waits: list[float] = []
    monkeypatch.setattr(client_module, "_sleep", waits.append)
    return waits


def make_client(base_url: str = LIVE, **kwargs) -> HeyGenClient:
    return HeyGenClient(SECRET, base_url, **kwargs)


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def voice(i: int) -> dict:
    return {"voice_id": f"v{i:04d}", "name": f"Voice {i}", "language": "English", "gender": "female",
            "preview_audio_url": None, "support_pause": False, "support_locale": True, "type": "public"}


def look(i: int) -> dict:
    return {"id": f"look_{i}", "name": f"Look {i}", "avatar_type": "studio_avatar",
            "supported_api_engines": ["avatar_iv"]}


def paged(items: list[dict], page_size: int):
    """A ``responses`` callback serving ``items`` in pages with ``has_more``/``next_token``."""

    def callback(request):
        params = parse_qs(urlsplit(request.url).query)
        start = int(params.get("token", ["0"])[0])
        limit = int(params["limit"][0])
        assert limit == page_size
        end = start + limit
        more = end < len(items)
        body = {"data": items[start:end], "has_more": more, "next_token": str(end) if more else None}
        return 200, {"X-Request-Id": f"req-{start}"}, requests.compat.json.dumps(body)

    return callback


def add_voices(rsps, base_url: str = LIVE, count: int = 250):
    rsps.add_callback(responses.GET, base_url + "/v3/voices", callback=paged([voice(i) for i in range(count)], 100))


# -- pagination and catalog cache ------------------------------------------------------------

def test_list_voices_follows_three_pages_with_progress(mocked):
    add_voices(mocked)
    seen: list[tuple[int, bool]] = []
    voices = make_client().list_voices(progress=lambda done, more: seen.append((done, more)))
    assert [v.voice_id for v in voices] == [f"v{i:04d}" for i in range(250)]
    assert seen == [(100, True), (200, True), (250, False)]
    assert [query(c).get("token") for c in mocked.calls] == [None, "100", "200"]
    assert all(query(c)["limit"] == "100" for c in mocked.calls)


def test_list_voices_passes_filters(mocked):
    add_voices(mocked, count=3)
    make_client().list_voices(type="private", engine="starfish", language="English", gender="male")
    assert query(mocked.calls[0]) == {"type": "private", "engine": "starfish", "language": "English",
                                      "gender": "male", "limit": "100"}


def test_list_avatar_looks_pages_by_50(mocked):
    mocked.add_callback(responses.GET, LIVE + "/v3/avatars/looks", callback=paged([look(i) for i in range(120)], 50))
    looks = make_client().list_avatar_looks(group_id="g1")
    assert len(looks) == 120 and looks[0].supported_api_engines == ["avatar_iv"]
    assert len(mocked.calls) == 3 and query(mocked.calls[0])["group_id"] == "g1"


def test_list_avatar_groups_pages_by_50(mocked):
    groups = [{"id": f"g{i}", "name": "G", "created_at": 1, "looks_count": 2} for i in range(60)]
    mocked.add_callback(responses.GET, LIVE + "/v3/avatars", callback=paged(groups, 50))
    assert len(make_client().list_avatar_groups(ownership="public")) == 60
    assert query(mocked.calls[0])["ownership"] == "public"


def test_second_catalog_read_makes_no_http_call(mocked):
    add_voices(mocked)
    client = make_client()
    first = client.list_voices()
    assert client.last_from_cache is False
    calls = len(mocked.calls)
    second = client.list_voices()
    assert len(mocked.calls) == calls == 3
    assert client.last_from_cache is True
    assert second == first


def test_refresh_refetches_every_page(mocked):
    add_voices(mocked)
    client = make_client()
    client.list_voices()
    client.list_voices(refresh=True)
    assert len(mocked.calls) == 6
    assert client.last_from_cache is False


def test_catalog_cache_file_survives_a_restart_on_the_same_port(mocked, tmp_path):
    """An app restart (new client, same cache file, sandbox back on its port) reads the cache."""
    cache = str(tmp_path / "http_cache_sandbox.sqlite")
    add_voices(mocked, "http://127.0.0.1:40001")
    first = make_client("http://127.0.0.1:40001", cache_location=cache)
    voices = first.list_voices()
    first.close()
    assert len(mocked.calls) == 3

    second = make_client("http://localhost:40001", cache_location=cache)
    assert second.catalog_fetched_at("voices") is not None
    assert second.list_voices() == voices
    assert len(mocked.calls) == 3
    assert second.last_from_cache is True
    second.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SECRET.encode() not in data


def test_another_account_is_not_served_this_accounts_cached_catalog(mocked, tmp_path):
    """Private voices and looks differ per account: the cache key includes the account, never the key."""
    cache = str(tmp_path / "http_cache_live.sqlite")
    add_voices(mocked)
    make_client(cache_location=cache).list_voices()
    assert len(mocked.calls) == 3
    other = HeyGenClient("sk_V2_live_another_account_key_99", LIVE, cache_location=cache)
    assert other.catalog_fetched_at("voices") is None
    other.list_voices()
    assert len(mocked.calls) == 6 and other.last_from_cache is False
    make_client(cache_location=cache).list_voices()
    assert len(mocked.calls) == 6
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert SECRET.encode() not in data and b"another_account_key" not in data


def test_a_sandbox_on_another_port_is_not_served_the_old_ports_pages(mocked, tmp_path):
    """Cached pages carry media URLs of the sandbox that served them; another port refetches."""
    cache = str(tmp_path / "http_cache_sandbox.sqlite")
    add_voices(mocked, "http://127.0.0.1:40001")
    add_voices(mocked, "http://127.0.0.1:40777")
    make_client("http://127.0.0.1:40001", cache_location=cache).list_voices()
    make_client("http://127.0.0.1:40777", cache_location=cache).list_voices()
    assert len(mocked.calls) == 6


def test_catalog_fetched_at(mocked):
    client = make_client()
    assert client.catalog_fetched_at("voices") is None
    add_voices(mocked, count=5)
    client.list_voices()
    fetched = client.catalog_fetched_at("voices")
    assert fetched is not None and fetched.tzinfo is not None
    assert client.catalog_fetched_at("looks") is None


def test_pagination_stops_when_has_more_lacks_a_token(mocked):
    mocked.get(LIVE + "/v3/voices", json={"data": [voice(1)], "has_more": True, "next_token": None})
    assert len(make_client().list_voices()) == 1
    assert len(mocked.calls) == 1


# -- videos -------------------------------------------------------------------------------------

def test_statuses_are_chunked_by_100(mocked):
    def callback(request):
        ids = query_ids(request)
        return 200, {}, requests.compat.json.dumps({"data": [{"video_id": i, "status": "processing"} for i in ids]})

    mocked.add_callback(responses.GET, LIVE + "/v3/videos/statuses", callback=callback)
    ids = [f"vid{i}" for i in range(250)]
    items = make_client().get_video_statuses(ids)
    assert [len(query_ids(c.request)) for c in mocked.calls] == [100, 100, 50]
    assert [item.video_id for item in items] == ids


def query_ids(request) -> list[str]:
    return parse_qs(urlsplit(request.url).query)["video_ids"][0].split(",")


def test_statuses_of_nothing_makes_no_call(mocked):
    assert make_client().get_video_statuses([]) == []
    assert len(mocked.calls) == 0


def test_video_reads_are_never_cached(mocked):
    mocked.get(LIVE + "/v3/videos/abc", json={"data": {"id": "abc", "status": "processing"}})
    client = make_client()
    client.get_video("abc")
    video = client.get_video("abc")
    assert video.status == "processing" and len(mocked.calls) == 2
    assert client.last_response_from_cache is False


def test_list_videos_respects_limit(mocked):
    videos = [{"id": f"x{i}", "status": "completed"} for i in range(250)]
    mocked.add_callback(responses.GET, LIVE + "/v3/videos", callback=paged(videos, 100))
    assert [v.id for v in make_client().list_videos(limit=150)] == [f"x{i}" for i in range(150)]
    assert len(mocked.calls) == 2


def test_delete_video(mocked):
    mocked.delete(LIVE + "/v3/videos/abc", json={"data": {"id": "abc", "deleted": True}})
    assert make_client().delete_video("abc") is None
    assert mocked.calls[0].request.method == "DELETE"


def test_create_video_sends_body_key_and_write_timeout(mocked):
    mocked.post(LIVE + "/v3/videos", json={"data": {"video_id": "new1", "status": "waiting"}})
    body = {"type": "studio", "scenes": []}
    created = make_client().create_video(body, idempotency_key="reel-7-attempt-1")
    assert created.video_id == "new1" and created.status == "waiting"
    request = mocked.calls[0].request
    assert requests.compat.json.loads(request.body) == body
    assert request.headers["Idempotency-Key"] == "reel-7-attempt-1"
    assert request.headers["X-Api-Key"] == SECRET
    assert request.req_kwargs["timeout"] == (5.0, 120.0)


def test_get_calls_use_the_read_timeout(mocked):
    mocked.get(LIVE + "/v3/videos/abc", json={"data": {"id": "abc", "status": "pending"}})
    make_client(timeout_s=12.5).get_video("abc")
    assert mocked.calls[0].request.req_kwargs["timeout"] == (5.0, 12.5)


def test_post_without_key_is_not_retried_on_500(mocked, slept):
    mocked.post(LIVE + "/v3/videos", status=500, json={"error": {"code": "internal_error", "message": "x"}})
    with pytest.raises(ServerError):
        make_client().create_video({"type": "studio"})
    assert len(mocked.calls) == 1
    assert "Idempotency-Key" not in mocked.calls[0].request.headers
    assert slept == []


def test_post_without_key_is_not_retried_on_timeout(mocked, slept):
    mocked.post(LIVE + "/v3/videos", body=requests.ReadTimeout("slow"))
    with pytest.raises(NetworkError):
        make_client().create_video({"type": "studio"})
    assert len(mocked.calls) == 1


def test_post_with_key_is_retried_on_500_with_the_same_key(ordered, slept):
    for _ in range(2):
        ordered.post(LIVE + "/v3/videos", status=500, body="<html>oops</html>")
    ordered.post(LIVE + "/v3/videos", json={"data": {"video_id": "v9", "status": "waiting"}})
    created = make_client().create_video({"type": "studio"}, idempotency_key="key-123")
    assert created.video_id == "v9"
    assert [c.request.headers["Idempotency-Key"] for c in ordered.calls] == ["key-123"] * 3
    assert len(slept) == 2


def test_post_with_key_gives_up_after_max_retries(mocked, slept):
    mocked.post(LIVE + "/v3/videos", status=503, body="")
    with pytest.raises(ServerError):
        make_client(max_retries=2).create_video({"type": "studio"}, idempotency_key="key-1")
    assert len(mocked.calls) == 3


def test_post_with_key_is_retried_on_connection_error(ordered, slept):
    ordered.post(LIVE + "/v3/videos", body=requests.ConnectionError("reset"))
    ordered.post(LIVE + "/v3/videos", json={"data": {"video_id": "v2"}})
    assert make_client().create_video({"type": "studio"}, idempotency_key="k").video_id == "v2"
    assert len(ordered.calls) == 2


def test_post_with_key_waits_while_request_in_progress(ordered, slept):
    ordered.post(LIVE + "/v3/videos", status=409,
                 json={"error": {"code": "request_in_progress", "message": "still working"}})
    ordered.post(LIVE + "/v3/videos", json={"data": {"video_id": "v3"}})
    assert make_client().create_video({"type": "studio"}, idempotency_key="k").video_id == "v3"
    assert slept == [client_module.IN_PROGRESS_WAIT_S]


def test_request_in_progress_exhausted_raises(mocked, slept):
    mocked.post(LIVE + "/v3/videos", status=409, json={"error": {"code": "request_in_progress", "message": "m"}})
    with pytest.raises(RequestInProgressError):
        make_client().create_video({"type": "studio"}, idempotency_key="k")
    assert len(mocked.calls) == 3


def test_post_429_is_retried_by_the_transport_then_succeeds(ordered):
    ordered.post(LIVE + "/v3/videos", status=429, headers={"Retry-After": "2"},
                 json={"error": {"code": "rate_limit_exceeded", "message": "10 jobs in flight"}})
    ordered.post(LIVE + "/v3/videos", json={"data": {"video_id": "v4"}})
    assert make_client().create_video({"type": "studio"}).video_id == "v4"
    assert len(ordered.calls) == 2


def test_get_429_then_success(ordered):
    ordered.get(LIVE + "/v3/users/me", status=429, headers={"Retry-After": "1"}, body="")
    ordered.get(LIVE + "/v3/users/me", json={"data": {"username": "jane"}})
    assert make_client().get_current_user().username == "jane"
    assert len(ordered.calls) == 2


def test_429_exhausted_raises_rate_limit_with_retry_after(mocked):
    mocked.get(LIVE + "/v3/videos/abc", status=429, headers={"Retry-After": "45"},
               json={"error": {"code": "rate_limit_exceeded", "message": "slow down"}})
    with pytest.raises(RateLimitError) as info:
        make_client().get_video("abc")
    assert info.value.retry_after == 45
    assert len(mocked.calls) == 3


def test_get_5xx_is_retried_then_succeeds(ordered):
    ordered.get(LIVE + "/v3/videos/abc", status=502, body="<html>bad gateway</html>")
    ordered.get(LIVE + "/v3/videos/abc", status=503, body="")
    ordered.get(LIVE + "/v3/videos/abc", json={"data": {"id": "abc", "status": "completed"}})
    assert make_client().get_video("abc").status == "completed"
    assert len(ordered.calls) == 3


def test_delete_5xx_is_retried(ordered):
    ordered.delete(LIVE + "/v3/videos/abc", status=500, body="")
    ordered.delete(LIVE + "/v3/videos/abc", json={"data": {"id": "abc", "deleted": True}})
    make_client().delete_video("abc")
    assert len(ordered.calls) == 2


def test_max_retries_zero_disables_transport_retries(mocked):
    mocked.get(LIVE + "/v3/videos/abc", status=500, body="")
    with pytest.raises(ServerError):
        make_client(max_retries=0).get_video("abc")
    assert len(mocked.calls) == 1


# -- speech, account, webhooks --------------------------------------------------------------

def test_generate_speech_body(mocked):
    mocked.post(LIVE + "/v3/voices/speech", json={"data": {
        "audio_url": "https://x/a.mp3", "duration": 2.4,
        "word_timestamps": [{"word": "Hello", "start": 0.0, "end": 0.45}]}})
    speech = make_client().generate_speech("Hello", "voice1", speed=1.2, locale="en-GB")
    assert speech.duration == 2.4 and speech.word_timestamps[0].word == "Hello"
    assert requests.compat.json.loads(mocked.calls[0].request.body) == {
        "text": "Hello", "voice_id": "voice1", "speed": 1.2, "locale": "en-GB"}


def test_current_user_balance(mocked):
    mocked.get(LIVE + "/v3/users/me", json={"data": {
        "username": "jane", "billing_type": "wallet", "wallet": {"currency": "usd", "remaining_balance": 42.5}}})
    assert make_client().get_current_user().balance_text == "$42.50"


def test_webhook_endpoint_management(mocked):
    endpoint = {"endpoint_id": "ep_1", "url": "https://me.example/hook", "events": None,
                "status": "enabled", "created_at": "2026-11-01T10:00:00Z"}
    mocked.post(LIVE + "/v3/webhooks/endpoints", json={"data": {**endpoint, "secret": "whsec_abc"}})
    mocked.get(LIVE + "/v3/webhooks/endpoints",
               json={"data": [{**endpoint, "secret": None}], "has_more": False, "next_token": None})
    mocked.post(LIVE + "/v3/webhooks/endpoints/ep_1/rotate-secret",
                json={"data": {"endpoint_id": "ep_1", "secret": "whsec_new"}})
    mocked.delete(LIVE + "/v3/webhooks/endpoints/ep_1", json={})
    mocked.get(LIVE + "/v3/webhooks/event-types",
               json={"data": [{"event_type": "avatar_video.success", "description": "done"}]})
    client = make_client()
    created = client.create_webhook_endpoint("https://me.example/hook", ["avatar_video.success"])
    assert created.secret == "whsec_abc" and "whsec_abc" not in repr(created)
    assert requests.compat.json.loads(mocked.calls[0].request.body)["events"] == ["avatar_video.success"]
    assert [e.endpoint_id for e in client.list_webhook_endpoints()] == ["ep_1"]
    assert client.rotate_webhook_secret("ep_1").secret == "whsec_new"
    assert client.delete_webhook_endpoint("ep_1") is None
    assert client.list_webhook_event_types()[0]["event_type"] == "avatar_video.success"


def test_webhook_lists_are_not_cached(mocked):
    mocked.get(LIVE + "/v3/webhooks/endpoints", json={"data": [], "has_more": False})
    client = make_client()
    client.list_webhook_endpoints()
    client.list_webhook_endpoints()
    assert len(mocked.calls) == 2


# -- media ------------------------------------------------------------------------------------

def test_download_sends_no_key_and_writes_the_file(mocked, tmp_path):
    url = "https://files.heygen.test/video.mp4?X-Amz-Signature=abc"
    mocked.get(url, body=b"\x00\x00\x00\x18ftypmp42" * 1000)
    dest = make_client().download(url, tmp_path / "out" / "reel.mp4")
    assert dest.read_bytes().startswith(b"\x00\x00\x00\x18ftyp")
    assert "X-Api-Key" not in mocked.calls[0].request.headers
    assert not list((tmp_path / "out").glob("*.part"))


def test_download_resolves_sandbox_paths(mocked, tmp_path):
    mocked.get("http://127.0.0.1:40001/media/v1.mp4", body=b"mp4")
    make_client("http://127.0.0.1:40001").download("/media/v1.mp4", tmp_path / "v1.mp4")
    assert (tmp_path / "v1.mp4").read_bytes() == b"mp4"


def test_download_of_an_expired_link(mocked, tmp_path):
    mocked.get("https://files.heygen.test/old.mp4", status=403, body="<Error>AccessDenied</Error>")
    with pytest.raises(PermissionDeniedError):
        make_client().download("https://files.heygen.test/old.mp4", tmp_path / "old.mp4")
    assert not (tmp_path / "old.mp4").exists()


def test_download_network_error_leaves_no_file(mocked, tmp_path):
    mocked.get("https://files.heygen.test/x.mp4", body=requests.ConnectionError("refused"))
    with pytest.raises(NetworkError):
        make_client().download("https://files.heygen.test/x.mp4", tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


# -- secrecy ----------------------------------------------------------------------------------

def test_repr_masks_the_key():
    text = repr(make_client())
    assert SECRET not in text and "sk_V…CRET" in text


def test_debug_log_names_request_but_never_the_key(mocked, caplog):
    add_voices(mocked, count=3)
    mocked.get(LIVE + "/v3/videos/abc", status=404, json={"error": {"code": "not_found", "message": "no"}})
    client = make_client()
    with caplog.at_level(logging.DEBUG):
        client.list_voices()
        client.list_voices()
        with pytest.raises(Exception):  # noqa: B017 - any HeyGen error will do here
            client.get_video("abc")
    text = caplog.text
    assert SECRET not in text and SECRET[-10:] not in text
    assert "GET /v3/voices -> 200 request_id=req-0 from_cache=False" in text
    assert "from_cache=True" in text
    assert "GET /v3/videos/abc -> 404" in text
