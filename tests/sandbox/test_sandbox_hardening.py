"""The sandbox refuses what HeyGen refuses: deep or huge bodies, malformed internal-route bodies; it serves
every preview offline and keeps its port across a restart."""

from __future__ import annotations

import socket
import subprocess

import imageio_ffmpeg
import pytest
import requests

from core.sandbox.server import port_is_free
from tests.sandbox.sandbox_support import LOOK, Api, studio_body


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox.url)


def test_deeply_nested_body_is_a_400_with_a_reason(api: Api) -> None:
    deep = b'{"title": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = api.post("/v3/videos", data=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "nested" in response.json()["error"]["message"]


def test_moderately_nested_body_is_refused_before_schema_checks(api: Api) -> None:
    body = studio_body()
    body["title"] = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    response = api.post("/v3/videos", json=body)
    assert response.status_code == 400
    assert "nested" in response.json()["error"]["message"]


def test_fifty_megabyte_title_is_413(api: Api) -> None:
    body = studio_body()
    body["title"] = "t" * (50 * 1024 * 1024)
    response = api.post("/v3/videos", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_chunked_oversized_body_is_413(api: Api) -> None:
    chunks = (b"x" * 65536 for _ in range(64))  # 4 MiB without Content-Length
    response = api.post("/v3/videos", data=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_faults_refuse_unknown_keys_and_leave_creation_working(api: Api) -> None:
    response = api.post("/_sandbox/faults", json={"__dict__": {}})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "__dict__"
    assert api.create(studio_body()).status_code == 200


@pytest.mark.parametrize(("body", "param"), [
    ({"expire_urls": "false"}, "expire_urls"),
    ({"fail_next": "3"}, "fail_next"),
    ({"fail_next": -1}, "fail_next"),
    ({"stuck_next": True}, "stuck_next"),
    ({"failure_code": 7}, "failure_code"),
    ({"spec": 5}, "spec"),
    ({"spec": "999=1"}, "spec"),
])
def test_faults_check_each_value_type(api: Api, body: dict, param: str) -> None:
    before = api.get("/_sandbox/faults").json()
    response = api.post("/_sandbox/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert api.get("/_sandbox/faults").json() == before


def test_faults_refuse_the_whole_body_when_one_key_is_bad(api: Api) -> None:
    response = api.post("/_sandbox/faults", json={"expire_urls": True, "fail_next": "x"})
    assert response.status_code == 400
    assert api.get("/_sandbox/faults").json()["expire_urls"] is False


def test_faults_accept_well_typed_values(api: Api) -> None:
    response = api.post("/_sandbox/faults", json={"expire_urls": False, "fail_next": 2, "spec": "429=1x"})
    assert response.status_code == 200
    assert response.json()["fail_next"] == 2 and response.json()["spec"] == "429=1x"


def test_reset_refuses_a_body_with_parameters(api: Api) -> None:
    assert api.post("/_sandbox/reset", json={"everything": True}).status_code == 400
    assert api.post("/_sandbox/reset", data=b"[1]").status_code == 400
    assert api.post("/_sandbox/reset", json={}).status_code == 200
    assert api.post("/_sandbox/reset").status_code == 200


def test_look_preview_video_is_a_local_playable_mp4(api: Api, tmp_path) -> None:
    look = api.get(f"/v3/avatars/looks/{LOOK}").json()["data"]
    assert look["preview_video_url"] == f"{api.url}/_sandbox/media/look/{LOOK}.mp4"
    group = api.get(f"/v3/avatars/{look['group_id']}").json()["data"]
    assert group["preview_video_url"].startswith(f"{api.url}/_sandbox/media/look/")
    response = requests.get(look["preview_video_url"], timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    path = tmp_path / "preview.mp4"
    path.write_bytes(response.content)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True)
    assert "Video: h264" in probe.stderr and "Audio: aac" in probe.stderr


def test_every_listed_look_preview_is_local(api: Api) -> None:
    looks = api.get("/v3/avatars/looks", params={"limit": 50}).json()["data"]
    urls = [look[key] for look in looks for key in ("preview_image_url", "preview_video_url") if look[key]]
    assert urls and all(url.startswith(api.url + "/_sandbox/media/") for url in urls)


def test_look_without_a_video_keeps_null(sandbox_factory) -> None:
    server = sandbox_factory(include_talking_photos=True)
    sb = server.sandbox
    photo = next(look for look in sb.catalog.looks if look["avatar_type"] == "photo_avatar")
    assert sb.look_view(photo, server.url)["preview_video_url"] is None
    assert requests.get(f"{server.url}/_sandbox/media/look/{photo['id']}.mp4", timeout=10).status_code == 404


def test_a_port_in_time_wait_counts_as_free() -> None:
    """A restarted process finds its old port free although closed connections still linger on it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's (asyncio's) listener does
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its end of the connection enters TIME_WAIT
    client.recv(1)
    client.close()
    listener.close()
    assert port_is_free(port)


def test_a_listening_port_is_not_free() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])
