"""What a process needs, built once: database, HeyGen client, sandbox and worker.

This is the one place where sandbox and live mode differ:

| | sandbox (no ``HEYGEN_API_KEY``) | live |
|---|---|---|
| HeyGen | :mod:`core.sandbox` on 127.0.0.1, started here in a thread | ``HEYGEN_BASE_URL`` |
| key | :data:`core.config.SANDBOX_API_KEY` | ``HEYGEN_API_KEY`` |
| script drafts | the sandbox's ``/v1/chat/completions`` unless ``LLM_MODEL`` is set | ``LLM_MODEL`` or none |

Both modes use the same database, cache and worker code. :func:`get_runtime` builds the
runtime once per process behind a lock; Streamlit's "Clear caches" cannot start a
second worker because nothing here lives in a Streamlit cache.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker

from core.access.keys import KeyBox, SecretKeyError, load_key_box
from core.board.store import BoardStore
from core.catalog.store import CatalogStore
from core.config import SANDBOX_API_KEY, Settings, load_settings
from core.db import make_engine, make_session_factory, migrate
from core.heygen import HeyGenClient
from core.jobs.accounts import Accounts
from core.jobs.archive_store import ArchiveStore, ArchiveStoreError, build_store
from core.jobs.archiver import Archiver
from core.jobs.metrics import Metrics
from core.jobs.worker import Worker
from core.logs import configure_logging, register_secret
from core.reels.script_model import ModelConfig, model_config
from core.sandbox import SandboxConfig, SandboxServer, start_in_thread
from core.sandbox.server import port_is_free

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The app cannot start; the message says what to fix (never contains a secret)."""


@dataclass
class Runtime:
    """Process-wide services.

    Attributes:
        settings: the resolved settings.
        engine, session_factory: the migrated database.
        base_url, api_key: where HeyGen (or the sandbox) is, and the key to use.
        client: a HeyGen client for page code (guarded by its own lock).
        catalog: the process-wide catalog, shared by pages and the embedded worker.
        boards: the process-wide incremental status boards, shared by every open tab.
        sandbox: the in-process sandbox server in sandbox mode, else ``None``.
        script_model: the chat model that drafts scripts (:class:`core.reels.script_model.ModelConfig`):
            ``LLM_MODEL`` when set, else the sandbox's stand-in in sandbox mode, else ``None``.
        archive: the archive store of finished videos (``ARCHIVE_URL`` or ``DATA_DIR/archive``).
        worker: the embedded worker when ``WORKER_MODE=embedded`` (or the standalone worker of
            ``python -m core.jobs``), else ``None``.
        metrics: the process's Prometheus metrics (every client and the worker report to it).
        metrics_server: the ``/metrics`` server on ``METRICS_PORT`` in the app process, else ``None``.
        box: opens the workspaces' stored HeyGen keys (:mod:`core.access.keys`).
    """

    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    base_url: str
    api_key: str = field(repr=False)
    client: HeyGenClient
    catalog: CatalogStore | None = None
    boards: BoardStore | None = None
    sandbox: SandboxServer | None = None
    script_model: ModelConfig | None = None
    worker: Worker | None = None
    metrics: Metrics | None = None
    metrics_server: Any = None
    archive: ArchiveStore | None = None
    box: KeyBox | None = field(default=None, repr=False)

    def accounts(self, default_client: HeyGenClient) -> Accounts:
        """The per-workspace clients for a worker: each workspace's reels go out with its own key."""
        live = self.settings.heygen_base_url.rstrip("/")
        sandbox = self.sandbox.url if self.sandbox is not None else (self.base_url if self.settings.sandbox else live)
        base_urls = {"sandbox": sandbox, "live": live}

        def make(base_url: str, api_key: str) -> HeyGenClient:
            client = make_client(self.settings, base_url, api_key)
            client.observer = self.metrics
            return client

        return Accounts(self.session_factory, default_client, make, base_urls=base_urls, box=self.box,
                        default_concurrency=self.settings.heygen_concurrency, sandbox_install=self.settings.sandbox)

    def new_client(self) -> HeyGenClient:
        """A separate :class:`~core.heygen.HeyGenClient` for another thread (same cache file)."""
        client = make_client(self.settings, self.base_url, self.api_key)
        client.observer = self.metrics
        return client

    def stop(self) -> None:
        """Stop the worker, the metrics server and the sandbox, and close the database (idempotent)."""
        if self.worker is not None:
            self.worker.stop()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server.server_close()
            self.metrics_server = None
        if self.sandbox is not None:
            self.sandbox.stop()
        self.engine.dispose()


_lock = threading.Lock()
_runtime: Runtime | None = None
_last_failure: str | None = None


def ensure_data_dir(path: Path) -> None:
    """Create ``DATA_DIR`` and prove it is writable.

    Raises:
        StartupError: the folder cannot be created or written, naming the folder and the fix.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        log.debug("data folder check failed", exc_info=True)
        raise StartupError(
            f"The data folder {path} is not writable ({exc.strerror or exc}); "
            "set DATA_DIR to a folder this user can write."
        ) from None


def start_sandbox(settings: Settings) -> SandboxServer:
    """Start the in-process HeyGen sandbox on ``SANDBOX_PORT`` (a free port when taken or 0).

    Returns:
        the running :class:`core.sandbox.SandboxServer`.
    """
    config = SandboxConfig(
        api_keys=(SANDBOX_API_KEY,),
        time_scale=settings.sandbox_time_scale,
        balance_usd=settings.sandbox_balance_usd,
        concurrency_limit=max(settings.heygen_concurrency, 10),
        state_dir=settings.data_dir / "sandbox",
        original_media=settings.sandbox_original_media,
    )
    port = settings.sandbox_port
    if port and not port_is_free(port):
        log.info("sandbox port %s is taken; using a free port", port)
        port = 0
    return start_in_thread(config, host="127.0.0.1", port=port)


#: ``(settings, base_url, api_key) -> client``: how a process makes its HeyGen clients.
ClientFactory = Callable[[Settings, str, str], HeyGenClient]


def key_box(settings: Settings, stored_keys: Callable[[], bool]) -> KeyBox | None:
    """The :class:`KeyBox` of this install, or ``None`` in team mode without ``SECRET_KEY`` while no
    workspace has a stored key (an install that predates workspaces keeps starting; a key cannot be
    stored until ``SECRET_KEY`` is set).

    Args:
        stored_keys: ``() -> bool``: whether any workspace has a stored HeyGen key.

    Raises:
        StartupError: team mode without ``SECRET_KEY`` once a key is stored, a secret too short, or an
            unreadable key file.
    """
    try:
        return load_key_box(settings)
    except SecretKeyError as exc:
        if settings.team_mode and not settings.secret_key and not stored_keys():
            return None
        raise StartupError(str(exc)) from None


def _stored_keys(session_factory: sessionmaker) -> Callable[[], bool]:
    def check() -> bool:
        from sqlalchemy import select

        from core.models import Workspace

        with session_factory() as session:
            return session.scalar(select(Workspace.id).where(Workspace.api_key_encrypted.is_not(None)).limit(1)) \
                is not None
    return check


def make_client(settings: Settings, base_url: str, api_key: str) -> HeyGenClient:
    """A HeyGen client with the configured cache (SQLite file in ``DATA_DIR`` or Redis)."""
    return HeyGenClient(
        api_key,
        base_url=base_url,
        cache_location=settings.http_cache_location,
        catalog_ttl_s=settings.catalog_cache_seconds,
    )


def build_runtime(settings: Settings, *, start_worker: bool | None = None) -> Runtime:
    """Build every service for ``settings``: data folder, migrated database, sandbox, client, worker, and the
    ``/metrics`` server when ``METRICS_PORT`` is set. A failure stops whatever was already started.

    Args:
        start_worker: override ``settings.worker_mode == "embedded"``.

    Raises:
        StartupError: unwritable data folder, unreachable database or unusable metrics port, with the fix.
    """
    register_secret(settings.heygen_api_key)
    register_secret(settings.webhook_secret)
    register_secret(settings.llm_api_key)
    register_secret(settings.secret_key)
    ensure_data_dir(settings.data_dir)
    engine, session_factory = open_database(settings)
    try:
        box = key_box(settings, _stored_keys(session_factory))
    except StartupError:
        engine.dispose()
        raise
    sandbox: SandboxServer | None = None
    runtime: Runtime | None = None
    try:
        if settings.sandbox:
            sandbox = start_sandbox(settings)
            base_url, api_key = sandbox.url, SANDBOX_API_KEY
        else:
            base_url, api_key = settings.heygen_base_url.rstrip("/"), settings.heygen_api_key or ""
        metrics = Metrics(account=settings.mode)
        client = make_client(settings, base_url, api_key)
        client.observer = metrics
        runtime = Runtime(settings=settings, engine=engine, session_factory=session_factory, base_url=base_url,
                          api_key=api_key, client=client, sandbox=sandbox, metrics=metrics, box=box)
        catalog = runtime.catalog = CatalogStore(runtime.client, settings.catalog_cache_seconds)
        runtime.boards = BoardStore(session_factory)
        runtime.script_model = model_config(settings, sandbox.url if sandbox else None, SANDBOX_API_KEY)
        runtime.archive = open_archive(settings)
        if start_worker if start_worker is not None else settings.worker_mode == "embedded":
            worker_client = runtime.new_client()
            runtime.worker = Worker(session_factory, worker_client, settings, metrics=metrics,
                                    index_provider=lambda: catalog.get().index, accounts=runtime.accounts(worker_client))
            attach_archiver(runtime, runtime.new_client())
            runtime.worker.start()
            # `streamlit run` stops on SIGTERM/SIGINT through a normal interpreter exit: release the lease
            # then, so another process need not wait WORKER_LEASE_SECONDS (stop() is idempotent).
            atexit.register(runtime.worker.stop)
        if settings.metrics_port:
            runtime.metrics_server = serve_metrics(runtime, settings.metrics_port)
        return runtime
    except BaseException:
        if runtime is not None:
            runtime.stop()
        else:
            if sandbox is not None:
                sandbox.stop()
            engine.dispose()
        raise


def open_archive(settings: Settings) -> ArchiveStore:
    """The archive store of ``settings``.

    Raises:
        StartupError: ``ARCHIVE_URL`` cannot be used (unknown protocol or missing package).
    """
    try:
        return build_store(settings)
    except ArchiveStoreError as exc:
        raise StartupError(f"{exc} Check ARCHIVE_URL.") from None


def attach_archiver(runtime: Runtime, client: HeyGenClient) -> None:
    """Give the runtime's worker an :class:`~core.jobs.archiver.Archiver` using ``client`` (its own)."""
    worker, settings = runtime.worker, runtime.settings
    assert worker is not None and runtime.archive is not None
    worker.archiver = Archiver(runtime.session_factory, runtime.archive, client, actor=worker.actor,
                               timeout_s=settings.archive_timeout_s, retention_days=settings.archive_retention_days,
                               clock=worker.clock)


def serve_metrics(runtime: Runtime, port: int) -> Any:
    """Serve the runtime's ``/metrics`` (with the database gauges) on ``127.0.0.1:port``.

    Raises:
        StartupError: the port cannot be bound.
    """
    assert runtime.metrics is not None
    worker = runtime.worker
    runtime.metrics.watch_database(runtime.session_factory, lease_seconds=runtime.settings.lease_seconds,
                                   holder=(lambda: worker.name) if worker is not None else None)
    try:
        return runtime.metrics.serve(port)
    except OSError as exc:
        raise StartupError(f"METRICS_PORT {port} cannot be used ({exc.strerror or exc}); "
                           "choose a free port or 0 to turn it off.") from None


def open_database(settings: Settings) -> tuple[Engine, sessionmaker]:
    """The migrated database of ``settings``: ``(engine, session factory)``.

    Raises:
        StartupError: the database cannot be opened or migrated (the message never holds the URL).
    """
    try:
        register_secret(make_url(settings.db_url).password)  # a driver error may quote the URL
        engine = make_engine(settings.db_url)
        migrate(engine)
    except Exception as exc:  # the driver's message may contain the URL's password
        log.debug("opening the database failed", exc_info=True)
        raise StartupError(
            f"The database could not be opened or migrated ({type(exc).__name__}); "
            "check DATABASE_URL and that the server is running."
        ) from None
    return engine, make_session_factory(engine)


def build_worker_runtime(settings: Settings, base_url: str, api_key: str, *,
                         client_factory: ClientFactory = make_client) -> Runtime:
    """What ``python -m core.jobs`` needs: the migrated database, a client, a (not yet started) worker and
    the process's metrics (database gauges included).

    Raises:
        StartupError: unwritable data folder or unreachable database, with the fix.
    """
    register_secret(api_key)
    register_secret(settings.webhook_secret)
    register_secret(settings.secret_key)
    if settings.database_url is None or settings.http_cache_url is None:  # files in DATA_DIR
        ensure_data_dir(settings.data_dir)
    engine, session_factory = open_database(settings)
    try:
        box = key_box(settings, _stored_keys(session_factory))
    except StartupError:
        engine.dispose()
        raise
    metrics = Metrics(account=settings.mode)
    clients = [client_factory(settings, base_url, api_key) for _ in range(3)]
    for client in clients:
        client.observer = metrics
    runtime = Runtime(settings=settings, engine=engine, session_factory=session_factory, base_url=base_url,
                      api_key=api_key, client=clients[0], metrics=metrics, box=box)
    runtime.archive = open_archive(settings)
    runtime.worker = Worker(session_factory, clients[1], settings, metrics=metrics, accounts=runtime.accounts(clients[1]))
    attach_archiver(runtime, clients[2])
    metrics.watch_database(session_factory, lease_seconds=settings.lease_seconds, holder=lambda: runtime.worker.name)
    return runtime


def get_runtime(settings: Settings | None = None) -> Runtime:
    """The process-wide :class:`Runtime`, built on first use (thread-safe).

    Raises:
        StartupError: the runtime cannot be built (logged once per distinct cause as one line).
    """
    global _runtime, _last_failure
    with _lock:
        if _runtime is None:
            settings = settings or load_settings()
            configure_logging(settings.log_format, settings.log_level)
            try:
                _runtime = build_runtime(settings)
            except StartupError as exc:
                if str(exc) != _last_failure:  # one line per cause, not one per page run
                    _last_failure = str(exc)
                    log.error("Reel Studio cannot start: %s", exc)
                raise
            _last_failure = None
            log.info("runtime ready: mode=%s database=%s pid=%s", _runtime.settings.mode,
                     _runtime.engine.url.render_as_string(hide_password=True), os.getpid())
        return _runtime


def runtime_started() -> bool:
    """True once :func:`get_runtime` has built the process runtime."""
    return _runtime is not None


def reset_runtime() -> None:
    """Stop and forget the process-wide runtime (tests, settings changes)."""
    global _runtime
    with _lock:
        if _runtime is not None:
            _runtime.stop()
        _runtime = None
