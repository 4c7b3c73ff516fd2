"""Running the sandbox over real HTTP: in a daemon thread (app, tests) or in the foreground (CLI)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from core.sandbox.app import create_app
from core.sandbox.settings import SandboxConfig

START_TIMEOUT_S = 30.0


class SandboxServer:
    """A sandbox served by uvicorn on loopback in a daemon thread.

    ``url`` is ``http://127.0.0.1:PORT``; ``app`` the Starlette app; ``sandbox`` its
    :class:`~core.sandbox.context.Sandbox`; ``state`` its :class:`~core.sandbox.state.Store`.
    """

    def __init__(self, config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.app = create_app(config)
        self.sandbox = self.app.state.sandbox
        self.state = self.sandbox.store
        self.host = host
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_level="warning",
                                                    access_log=False, lifespan="on", timeout_keep_alive=30))
        self.server.install_signal_handlers = lambda: None  # not the main thread  # type: ignore[method-assign]
        self.sandbox.uvicorn_server = self.server
        self._thread = threading.Thread(target=self.server.run, name="heygen-sandbox", daemon=True)
        self.url = ""

    def start(self) -> SandboxServer:
        """Start serving and wait until the socket is bound.

        Raises:
            RuntimeError: the server did not start within 30 s or its thread ended (port taken); everything
                started is stopped first.
        """
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()  # leave no thread, socket or job ticker behind
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        sockets: list[Any] = [s for srv in self.server.servers for s in srv.sockets]
        port = sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop serving and the background threads; waits up to ``timeout_s`` for the thread."""
        self.server.should_exit = True
        self._thread.join(timeout_s)
        self.sandbox.close()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` now.

    The probe sets ``SO_REUSEADDR`` as uvicorn's own listener does, so connections of a previous process still
    closing on the port (``TIME_WAIT``) do not make it look taken; a socket listening there does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_in_thread(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
    """Start a sandbox on ``host:port`` (0 = a free port) in a daemon thread and return it once listening."""
    return SandboxServer(config or SandboxConfig(), host, port).start()
