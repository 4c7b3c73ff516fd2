"""The product's own HTTP servers drop slow clients and believe forwarded headers only from listed proxies."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.jobs.http_server import BodyTooLarge, read_body, server_config


async def whoami(request: Request) -> JSONResponse:
    try:
        body = await read_body(request, 1024)
    except BodyTooLarge:
        return JSONResponse({"error": "too large"}, status_code=413)
    return JSONResponse({"client": request.client.host if request.client else None, "bytes": len(body)})


APP = Starlette(routes=[Route("/", whoami, methods=["GET", "POST"])])


@pytest.fixture
def serve() -> Iterator[Callable[..., str]]:
    """Start :data:`APP` with :func:`server_config` options on a free loopback port; returns its URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**options) -> str:
        server = uvicorn.Server(server_config(APP, "127.0.0.1", 0, **options))
        server.install_signal_handlers = lambda: None
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes the connection (EOF or reset) within 20 s."""
    sock.settimeout(20)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_eighty_half_open_connections_are_dropped(serve) -> None:
    url = serve(read_timeout_s=1.0)
    partial = [b"", b"POST / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab"]
    sockets = []
    for i in range(80):
        sock = socket.create_connection(("127.0.0.1", port_of(url)))
        sock.sendall(partial[i % 3])
        sockets.append(sock)
    try:
        assert all(closed_by_server(sock) for sock in sockets)
        assert requests.get(url, timeout=10).json()["bytes"] == 0
    finally:
        for sock in sockets:
            sock.close()


def test_a_slow_but_complete_request_in_time_is_answered(serve) -> None:
    url = serve(read_timeout_s=5.0)
    with socket.create_connection(("127.0.0.1", port_of(url))) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
        sock.sendall(b"cd")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


def test_idle_keep_alive_connection_is_closed(serve) -> None:
    url = serve(read_timeout_s=30.0, keep_alive_s=1)
    with socket.create_connection(("127.0.0.1", port_of(url))) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock)


def test_forwarded_for_is_ignored_by_default(serve) -> None:
    url = serve()
    answer = requests.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10).json()
    assert answer["client"] == "127.0.0.1"


def test_forwarded_for_is_believed_from_a_listed_proxy(serve) -> None:
    url = serve(trusted_proxies=["127.0.0.1"])
    answer = requests.get(url, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10).json()
    assert answer["client"] == "203.0.113.9"


def test_chunked_body_over_the_limit_is_refused(serve) -> None:
    url = serve()
    chunks = (b"x" * 512 for _ in range(64))
    assert requests.post(url, data=chunks, timeout=10).status_code == 413
    assert requests.post(url, data=b"x" * 100, timeout=10).json()["bytes"] == 100
