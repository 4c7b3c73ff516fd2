"""The Procfile's team stack under honcho, for the team-stack browser test.

Its own PostgreSQL schema, its own Redis database number, free loopback ports and a fresh folder;
:meth:`TeamStack.stop` ends honcho and then every process it started (found with psutil), also
when the test failed half-way.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import redis
from sqlalchemy import text

from core.db import make_engine, make_session_factory
from core.models import WorkerLease
from tests.e2e.conftest import free_port, wait_until_ok
from tests.fixtures.db import postgres_base_url, url_with_search_path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_KEY = "team-stack-test-key"
#: Redis database of this test (others: 13 secrets tests, 15 session tests; make team uses 2).
REDIS_DB = 11
LEASE_S = 6.0
POLL_S = 1.0


class TeamStack:
    """``honcho -f Procfile start`` with the settings of a team deployment, on this machine.

    Attributes: ``web1``/``web2`` (replica base URLs), ``sandbox_url``, ``db_url``, ``session_factory``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
        redis.Redis.from_url(self.redis_url).flushdb()  # before the schema: nothing to undo if Redis is down
        self.schema = "rs_team_" + uuid.uuid4().hex[:12]
        self._admin = make_engine(postgres_base_url())
        with self._admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.db_url = url_with_search_path(postgres_base_url(), self.schema)
        ports = {name: free_port() for name in ("SANDBOX_PORT", "WEB1_PORT", "WEB2_PORT", "WORKER_PORT",
                                                "STANDBY_PORT")}
        self.sandbox_url = f"http://127.0.0.1:{ports['SANDBOX_PORT']}"
        self.web1 = f"http://127.0.0.1:{ports['WEB1_PORT']}"
        self.web2 = f"http://127.0.0.1:{ports['WEB2_PORT']}"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HEYGEN_", "STREAMLIT_")) and k not in ("DATA_DIR", "WEBHOOK_PUBLIC_URL")}
        env.update({name: str(port) for name, port in ports.items()})
        env.update({
            "PYTHON": sys.executable, "DATABASE_URL": self.db_url, "HTTP_CACHE_URL": self.redis_url,
            "HEYGEN_API_KEY": SANDBOX_KEY, "HEYGEN_BASE_URL": self.sandbox_url, "WORKER_MODE": "external",
            "TEAM_DATA_DIR": str(folder / "data"), "SANDBOX_TIME_SCALE": "0.1",
            "POLL_INTERVAL_SECONDS": str(POLL_S), "WORKER_LEASE_SECONDS": str(LEASE_S),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32), "PYTHONUNBUFFERED": "1",
        })
        self.log_path = folder / "honcho.log"
        self._log = self.log_path.open("wb")
        self.engine = make_engine(self.db_url)
        self.session_factory = make_session_factory(self.engine)
        self._seen: dict[int, psutil.Process] = {}
        self.proc = subprocess.Popen([sys.executable, "-m", "honcho", "-f", "Procfile", "start"], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        """Wait for both replicas' ``/readyz``, the sandbox and a worker holding the lease."""
        for url in (f"{self.web1}/readyz", f"{self.web2}/readyz", f"{self.sandbox_url}/_sandbox/stats"):
            wait_until_ok(url, timeout_s, proc=self.proc)
        self.wait_for(lambda: self.lease() is not None and self.lease().holder, timeout_s, "a worker lease")
        self.remember_processes()

    def remember_processes(self) -> None:
        """Note every process under honcho now, so :meth:`stop` can end those it leaves behind."""
        try:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                self._seen[child.pid] = child
        except psutil.NoSuchProcess:
            pass

    def lease(self) -> WorkerLease | None:
        with self.session_factory() as session:
            return session.get(WorkerLease, "worker")

    def wait_for(self, condition, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"honcho stopped (exit {self.proc.returncode}) while waiting for {what}")
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to honcho (it stops its processes), then SIGKILL to anything still alive; drop the schema."""
        self.remember_processes()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        for child in self._seen.values():
            try:
                if child.is_running():
                    child.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(list(self._seen.values()), timeout=10)
        self._log.close()
        self.engine.dispose()
        with self._admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        self._admin.dispose()
        redis.Redis.from_url(self.redis_url).flushdb()
