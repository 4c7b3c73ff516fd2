"""The webhook receiver: signatures, event handling, repeats, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn
from starlette.testclient import TestClient

from core.board.rows import history
from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient
from core.heygen.types import Video
from core.jobs.webhooks import MAX_BODY_BYTES, RateLimiter, create_app, sign, verify_signature
from core.models import Reel
from tests.engine.test_jobs_lifecycle import assert_history_consistent, events_of, make_reel, status_of
from tests.engine.test_jobs_worker import launched, make_worker

SECRET = "whsec_test_secret"


def body_of(event_type: str, **data) -> bytes:
    return json.dumps({"event_type": event_type, "event_data": data}).encode()


def post(client: TestClient, body: bytes, *, secret: str = SECRET, header: str = "Signature",
         prefix: str = ""):
    return client.post("/webhooks/heygen", content=body,
                       headers={header: prefix + sign(body, secret), "Content-Type": "application/json"})


def pending_reel(session_factory, video_id: str = "vid-42") -> int:
    return make_reel(session_factory, status="pending", video_id=video_id, attempt=1)


# ---------------------------------------------------------------------- signatures (no database)


def test_verify_signature_variants():
    body = b'{"event_type":"avatar_video.success"}'
    good = sign(body, SECRET)
    assert verify_signature(body, {"Signature": good}, SECRET)
    assert verify_signature(body, {"x-heygen-signature": good}, SECRET)
    assert verify_signature(body, {"Signature": "sha256=" + good}, SECRET)
    assert verify_signature(body, {"Signature": good.upper()}, SECRET)
    assert not verify_signature(body, {"Signature": good}, "")  # no secret configured
    assert not verify_signature(body, {"Signature": good}, None)
    assert not verify_signature(body, {}, SECRET)
    assert not verify_signature(body + b" ", {"Signature": good}, SECRET)
    assert not verify_signature(body, {"Signature": sign(body, "whsec_other")}, SECRET)
    assert verify_signature(body, {"Signature": "junk", "X-HeyGen-Signature": good}, SECRET)


# ---------------------------------------------------------------------- the app


def test_rejects_missing_or_wrong_signature_before_parsing(session_factory):
    reel_id = pending_reel(session_factory)
    client = TestClient(create_app(session_factory, SECRET))
    body = body_of("avatar_video.success", video_id="vid-42", url="http://x/v.mp4")
    assert client.post("/webhooks/heygen", content=body).status_code == 401
    assert post(client, body, secret="whsec_wrong").status_code == 401
    assert client.post("/webhooks/heygen", content=b"not json", headers={"Signature": "00"}).status_code == 401
    with session_factory() as session:
        assert session.get(Reel, reel_id).status == "pending"


def test_success_completes_and_repeat_is_noop(session_factory):
    reel_id = pending_reel(session_factory)
    client = TestClient(create_app(session_factory, SECRET))
    body = body_of("avatar_video.success", video_id="vid-42", video_url="http://x/v.mp4?Expires=4102444800")
    first = post(client, body, header="X-HeyGen-Signature", prefix="sha256=")
    assert first.status_code == 200 and first.json()["result"] == "updated"
    again = post(client, body)
    assert again.status_code == 200 and again.json()["result"] == "unchanged"
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
    assert reel.status == "completed" and reel.video_url.startswith("http://x/v.mp4")
    assert [e for e in events_of(session_factory, reel_id) if e[1] == "completed"] == [("pending", "completed")]


def test_fail_event_stores_message(session_factory):
    reel_id = pending_reel(session_factory)
    client = TestClient(create_app(session_factory, SECRET))
    response = post(client, body_of("avatar_video.fail", video_id="vid-42", msg="Voice not usable."))
    assert response.json()["result"] == "updated"
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
    assert reel.status == "failed" and reel.failure_message == "Voice not usable."


@pytest.mark.parametrize("event_type, data", [
    ("avatar_video_gif.success", {"video_id": "vid-42"}),
    ("avatar_video.success", {"video_id": "someone-else", "url": "http://x"}),
    ("avatar_video.success", {}),
])
def test_unknown_type_or_video_is_ignored(session_factory, event_type, data):
    reel_id = pending_reel(session_factory)
    client = TestClient(create_app(session_factory, SECRET))
    response = post(client, body_of(event_type, **data))
    assert response.status_code == 200 and response.json()["result"] == "ignored"
    with session_factory() as session:
        assert session.get(Reel, reel_id).status == "pending"


def test_success_rereads_video_through_client(session_factory):
    reel_id = pending_reel(session_factory)

    class Client:
        calls: list[str] = []

        def get_video(self, video_id):
            self.calls.append(video_id)
            return Video(id=video_id, status="completed", duration=9.0, video_url="http://fresh/v.mp4",
                         thumbnail_url="http://fresh/t.jpg")

    client = Client()
    app = TestClient(create_app(session_factory, SECRET, client))
    post(app, body_of("avatar_video.success", video_id="vid-42", url="http://stale/v.mp4"))
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
    assert client.calls == ["vid-42"]
    assert reel.video_url == "http://fresh/v.mp4" and reel.duration_s == 9.0 and reel.thumbnail_url


def test_healthz(session_factory):
    assert TestClient(create_app(session_factory, SECRET)).get("/healthz").text == "ok"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sandbox_delivery_end_to_end(session_factory, catalog_index, sandbox_factory):
    """The sandbox signs and delivers avatar_video.success; the reel completes with no polling cycle."""
    # A generous delivery timeout: the receiver calls back into the sandbox and the database,
    # which can take seconds on a loaded machine, and the sandbox does not redeliver.
    server = sandbox_factory(render_media=False, webhook_timeout_s=30)
    client = HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=None)
    port = _free_port()
    endpoint = client.create_webhook_endpoint(f"http://127.0.0.1:{port}/webhooks/heygen")
    receiver = uvicorn.Server(uvicorn.Config(create_app(session_factory, endpoint.secret, client),
                                             host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=receiver.run, daemon=True)
    thread.start()
    try:
        while not receiver.started:
            time.sleep(0.01)
        reel_id = launched(session_factory, catalog_index)
        make_worker(session_factory, server, catalog_index).run_once()  # submits; polling never runs again
        deadline = time.time() + 30
        while time.time() < deadline and status_of(session_factory, reel_id) != "completed":
            time.sleep(0.05)
    finally:
        receiver.should_exit = True
        thread.join(10)
    assert status_of(session_factory, reel_id) == "completed"
    with session_factory() as session:
        completed_by = [e.actor for e in history(session, reel_id) if e.to_status == "completed"]
    assert completed_by == ["webhook"]
    assert_history_consistent(session_factory, reel_id)


def test_rate_limiter_window_slides():
    now = [0.0]
    limiter = RateLimiter(limit=2, window_s=10, clock=lambda: now[0])
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    assert limiter.allow("b")  # per address
    now[0] = 10.5
    assert limiter.allow("a")


def test_receiver_refuses_floods_and_oversized_bodies_before_checking_anything(session_factory):
    app = create_app(session_factory, SECRET, limiter=RateLimiter(limit=3, window_s=60))
    client = TestClient(app)
    huge = b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}"
    assert post(client, huge).status_code == 413
    assert post(client, body_of("avatar_video.success", video_id="none")).status_code == 200
    assert post(client, b"{}", secret="wrong").status_code == 401
    limited = post(client, body_of("avatar_video.success", video_id="none"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
