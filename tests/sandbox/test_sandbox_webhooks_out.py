"""Webhook endpoints and deliveries: signed for registered endpoints, unsigned for ``callback_url``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.sandbox.sandbox_support import Api, studio_body


@pytest.fixture
def receiver():
    """A local HTTP receiver recording (path, headers, raw body) of every POST."""
    received: list[tuple[str, dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


def _wait_for(received: list, n: int, timeout_s: float = 10.0) -> list:
    deadline = time.monotonic() + timeout_s
    while len(received) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return received


def test_success_is_delivered_signed_and_callback_unsigned(sandbox_factory, receiver) -> None:
    api = Api(sandbox_factory(render_media=False).url)
    created = api.post("/v3/webhooks/endpoints", json={"url": receiver.url + "/hook", "events": ["avatar_video.success"]})
    assert created.status_code == 200
    endpoint = created.json()["data"]
    assert endpoint["secret"].startswith("whsec_") and endpoint["status"] == "enabled"
    video_id = api.create(studio_body(callback_url=receiver.url + "/callback", callback_id="job-7")).json()["data"][
        "video_id"]
    assert api.wait(video_id)["status"] == "completed"
    deliveries = {path: (headers, body) for path, headers, body in _wait_for(receiver.received, 2)}
    headers, body = deliveries["/hook"]
    expected = hmac.new(endpoint["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["signature"] == headers["x-heygen-signature"] == expected
    payload = json.loads(body)
    assert payload["event_type"] == "avatar_video.success"
    assert payload["event_data"]["video_id"] == video_id and payload["event_data"]["callback_id"] == "job-7"
    assert payload["event_data"]["url"].startswith(api.url)
    cb_headers, cb_body = deliveries["/callback"]
    assert "signature" not in cb_headers and "x-heygen-signature" not in cb_headers
    assert json.loads(cb_body) == payload
    events = api.get("/v3/webhooks/events", params={"entity_id": video_id}).json()["data"]
    assert [e["event_type"] for e in events] == ["avatar_video.success"]
    deadline = time.monotonic() + 5
    while api.stats()["webhook_deliveries"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert api.stats()["webhook_deliveries"] == 2


def test_failure_event_only_to_subscribed_endpoints_and_rotation(sandbox_factory, receiver) -> None:
    api = Api(sandbox_factory(render_media=False).url)
    only_success = api.post("/v3/webhooks/endpoints", json={"url": receiver.url + "/success",
                                                            "events": ["avatar_video.success"]}).json()["data"]
    everything = api.post("/v3/webhooks/endpoints", json={"url": receiver.url + "/all"}).json()["data"]
    assert everything["events"] is None
    rotated = api.post(f"/v3/webhooks/endpoints/{everything['endpoint_id']}/rotate-secret").json()["data"]
    assert rotated["secret"] != everything["secret"]
    api.post("/_sandbox/faults", json={"fail_next": 1, "failure_code": "AVATAR_ERROR", "failure_message": "boom"})
    video_id = api.create().json()["data"]["video_id"]
    data = api.wait(video_id)
    assert (data["status"], data["failure_code"], data["failure_message"]) == ("failed", "AVATAR_ERROR", "boom")
    path, headers, body = _wait_for(receiver.received, 1)[0]
    assert path == "/all" and json.loads(body)["event_data"] == {"video_id": video_id, "msg": "boom",
                                                                  "callback_id": None}
    assert headers["signature"] == hmac.new(rotated["secret"].encode(), body, hashlib.sha256).hexdigest()
    time.sleep(0.2)
    assert len(receiver.received) == 1
    listed = api.get("/v3/webhooks/endpoints").json()["data"]
    assert {e["endpoint_id"] for e in listed} == {only_success["endpoint_id"], everything["endpoint_id"]}
    assert all(e["secret"] is None for e in listed)


def test_endpoint_crud_and_validation(sandbox) -> None:
    api = Api(sandbox.url)
    r = api.post("/v3/webhooks/endpoints", json={"url": "ftp://example.com/x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "url"
    r = api.post("/v3/webhooks/endpoints", json={"url": "https://example.com/x", "events": ["nope"]})
    assert r.status_code == 400 and r.json()["error"]["param"].startswith("events")
    ep = api.post("/v3/webhooks/endpoints", json={"url": "https://example.com/x"}).json()["data"]
    patched = api.request("PATCH", f"/v3/webhooks/endpoints/{ep['endpoint_id']}",
                          json={"events": ["avatar_video.fail"]}).json()["data"]
    assert patched["events"] == ["avatar_video.fail"] and patched["url"] == "https://example.com/x"
    assert api.delete(f"/v3/webhooks/endpoints/{ep['endpoint_id']}").json() == {"data": {}}
    assert api.delete(f"/v3/webhooks/endpoints/{ep['endpoint_id']}").status_code == 404
    types = api.get("/v3/webhooks/event-types").json()["data"]
    assert len(types) == 30 and {"avatar_video.success", "avatar_video.fail"} <= {t["event_type"] for t in types}
