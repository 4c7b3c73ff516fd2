"""Typed settings for Reel Studio.

Settings come from environment variables; ``.streamlit/secrets.toml`` is an optional
second source that this module reads itself with ``tomllib`` (``st.secrets`` raises
when the file is missing, and the worker has no Streamlit at all). Environment
variables always win over the file. Keys in the file live in sections so Streamlit
does not copy them into ``os.environ`` at start-up.

Every setting below is documented in ``.streamlit/secrets.toml.example`` and in the
README's settings table; a test keeps the three in step.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRETS_PATH = PROJECT_ROOT / ".streamlit" / "secrets.toml"

#: The fixed key the built-in sandbox accepts in sandbox mode (not a secret).
SANDBOX_API_KEY = "sandbox-local-key"


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """How one setting is read: its environment variable, its TOML location and type."""

    env: str
    section: str
    key: str
    kind: type
    help: str


# name -> how to read it. The order is the order of the README table.
SPEC: dict[str, Setting] = {
    "heygen_api_key": Setting("HEYGEN_API_KEY", "heygen", "api_key", str,
                              "HeyGen API key. Empty: sandbox mode against the built-in local HeyGen."),
    "heygen_base_url": Setting("HEYGEN_BASE_URL", "heygen", "base_url", str,
                               "HeyGen API base URL (live mode)."),
    "webhook_secret": Setting("HEYGEN_WEBHOOK_SECRET", "heygen", "webhook_secret", str,
                              "Signing secret (whsec_…) of the registered HeyGen webhook endpoint."),
    "webhook_public_url": Setting("WEBHOOK_PUBLIC_URL", "heygen", "webhook_public_url", str,
                                  "Public HTTPS URL at which HeyGen reaches the worker's webhook receiver."),
    "secret_key": Setting("SECRET_KEY", "storage", "secret_key", str,
                          "Secret that encrypts stored workspace HeyGen keys; comma-separated, newest first, to "
                          "rotate. Empty on one machine: a key file in DATA_DIR."),
    "data_dir": Setting("DATA_DIR", "storage", "data_dir", Path,
                        "Folder for the SQLite database, the HTTP cache and sandbox media."),
    "database_url": Setting("DATABASE_URL", "database", "url", str,
                            "SQLAlchemy URL. Default: SQLite file reels.db in DATA_DIR."),
    "http_cache_url": Setting("HTTP_CACHE_URL", "cache", "url", str,
                              "HTTP cache: empty for a SQLite file in DATA_DIR, or redis://host:port/db."),
    "catalog_cache_hours": Setting("CATALOG_CACHE_HOURS", "cache", "catalog_hours", float,
                                   "How long voice and avatar catalog responses are reused, in hours."),
    "worker_mode": Setting("WORKER_MODE", "worker", "mode", str,
                           "embedded (a thread in each app process), external (python -m core.jobs) or off."),
    "heygen_concurrency": Setting("HEYGEN_CONCURRENCY", "worker", "concurrency", int,
                                  "Video jobs in flight at HeyGen at once (Pay-As-You-Go allows 10)."),
    "per_owner_cap": Setting("PER_OWNER_CAP", "worker", "per_owner_cap", int,
                             "Active jobs allowed per owner; 0 means no per-owner cap."),
    "poll_interval_s": Setting("POLL_INTERVAL_SECONDS", "worker", "poll_interval_seconds", float,
                               "Seconds between the worker's status polls."),
    "lease_seconds": Setting("WORKER_LEASE_SECONDS", "worker", "lease_seconds", float,
                             "How long a worker's lease lasts without renewal before another takes over."),
    "stuck_after_minutes": Setting("STUCK_AFTER_MINUTES", "worker", "stuck_after_minutes", float,
                                   "Upper bound before a rendering reel is flagged as stuck, in minutes."),
    "webhook_port": Setting("WEBHOOK_PORT", "worker", "webhook_port", int,
                            "Port of the standalone worker's webhook receiver; 0 disables it."),
    "webhook_host": Setting("WEBHOOK_HOST", "worker", "webhook_host", str,
                            "Address the webhook receiver binds to; 0.0.0.0 to accept connections from other hosts."),
    "trusted_proxies": Setting("TRUSTED_PROXIES", "worker", "trusted_proxies", str,
                               "Comma-separated proxy addresses whose X-Forwarded-For is believed; empty trusts none."),
    "metrics_port": Setting("METRICS_PORT", "worker", "metrics_port", int,
                            "Loopback port serving /metrics from the app process (embedded worker); 0 disables it."),
    "log_format": Setting("LOG_FORMAT", "logging", "format", str,
                          "text (readable lines) or json (one JSON object per line)."),
    "log_level": Setting("LOG_LEVEL", "logging", "level", str,
                         "DEBUG, INFO, WARNING or ERROR; DEBUG also shows start-up tracebacks."),
    "default_engine": Setting("DEFAULT_ENGINE", "heygen", "default_engine", str,
                              "Avatar engine for new scenes: avatar_iv, avatar_v or avatar_iii."),
    "sandbox_time_scale": Setting("SANDBOX_TIME_SCALE", "sandbox", "time_scale", float,
                                  "Sandbox render-time multiplier; 1.0 renders a 3-scene reel in ~10–30 s."),
    "sandbox_balance_usd": Setting("SANDBOX_BALANCE_USD", "sandbox", "balance_usd", float,
                                   "Starting wallet balance of the sandbox account, in USD."),
    "sandbox_port": Setting("SANDBOX_PORT", "sandbox", "port", int,
                            "Loopback port of the in-process sandbox; a free port is used when it is taken or 0."),
    "sandbox_original_media": Setting("SANDBOX_ORIGINAL_MEDIA", "sandbox", "original_media", bool,
                                      "Serve HeyGen's original preview URLs instead of local media."),
    "allowed_email_domains": Setting("ALLOWED_EMAIL_DOMAINS", "access", "allowed_email_domains", str,
                                     "Comma-separated email domains that may sign in; empty allows every domain."),
    "default_role": Setting("DEFAULT_ROLE", "access", "default_role", str,
                            "Role of a person's first sign-in: viewer, producer or admin."),
    "admin_emails": Setting("ADMIN_EMAILS", "access", "admin_emails", str,
                            "Comma-separated emails that are always admins (any domain)."),
    "allow_unauthenticated_network": Setting(
        "ALLOW_UNAUTHENTICATED_NETWORK", "access", "allow_unauthenticated_network", bool,
        "Open a server bound to a network address without sign-in (trusted networks only); everyone acts "
        "as the local user."),
    "llm_model": Setting("LLM_MODEL", "llm", "model", str,
                         "Chat model that drafts scripts from a topic. Empty: the sandbox's offline drafts."),
    "llm_base_url": Setting("LLM_BASE_URL", "llm", "base_url", str,
                            "OpenAI-compatible API base URL (OpenAI, Azure OpenAI …/openai/v1, Ollama, vLLM, LM Studio)."),
    "llm_api_key": Setting("LLM_API_KEY", "llm", "api_key", str,
                           "API key of the chat model endpoint (a secret, like the HeyGen key); empty for local servers."),
    "llm_timeout_s": Setting("LLM_TIMEOUT_SECONDS", "llm", "timeout_seconds", float,
                             "Seconds to wait for one chat-model reply before giving up."),
    "archive_url": Setting("ARCHIVE_URL", "archive", "url", str,
                           "Where finished videos are archived: empty for DATA_DIR/archive, or an fsspec URL "
                           "such as s3://bucket/prefix."),
    "archive_s3_endpoint_url": Setting("ARCHIVE_S3_ENDPOINT_URL", "archive", "s3_endpoint_url", str,
                                       "Endpoint of S3-compatible storage (MinIO, R2, …); empty for AWS S3."),
    "archive_s3_access_key_id": Setting("ARCHIVE_S3_ACCESS_KEY_ID", "archive", "s3_access_key_id", str,
                                        "S3 access key id; empty uses the standard AWS credential chain."),
    "archive_s3_secret_access_key": Setting("ARCHIVE_S3_SECRET_ACCESS_KEY", "archive", "s3_secret_access_key", str,
                                            "S3 secret access key (never shown or logged)."),
    "archive_s3_region": Setting("ARCHIVE_S3_REGION", "archive", "s3_region", str,
                                 "S3 region name; empty for the endpoint's default."),
    "archive_retention_days": Setting("ARCHIVE_RETENTION_DAYS", "archive", "retention_days", int,
                                      "Days an archived video is kept after it finished; 0 keeps it forever."),
    "archive_link_seconds": Setting("ARCHIVE_LINK_SECONDS", "archive", "link_seconds", int,
                                    "Lifetime of a presigned archive link handed to the browser, in seconds."),
    "archive_timeout_s": Setting("ARCHIVE_TIMEOUT_SECONDS", "archive", "timeout_seconds", float,
                                 "Seconds without a byte before an archive download counts as stalled."),
}


@dataclass(frozen=True)
class Settings:
    """Resolved settings. ``heygen_api_key``, ``webhook_secret`` and ``llm_api_key`` are hidden from ``repr``.

    Units: ``*_s``/``*_seconds`` in seconds, ``*_hours`` in hours, ``*_usd`` in USD.
    """

    heygen_api_key: str | None = field(default=None, repr=False)
    heygen_base_url: str = "https://api.heygen.com"
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_public_url: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str | None = None
    http_cache_url: str | None = None
    catalog_cache_hours: float = 18.0
    worker_mode: str = "embedded"
    heygen_concurrency: int = 10
    per_owner_cap: int = 0
    poll_interval_s: float = 5.0
    lease_seconds: float = 30.0
    stuck_after_minutes: float = 30.0
    webhook_port: int = 0
    webhook_host: str = "127.0.0.1"
    trusted_proxies: str = ""
    metrics_port: int = 0
    log_format: str = "text"
    log_level: str = "INFO"
    default_engine: str = "avatar_iv"
    sandbox_time_scale: float = 1.0
    sandbox_balance_usd: float = 100.0
    sandbox_port: int = 8787
    sandbox_original_media: bool = False
    allowed_email_domains: str = ""
    default_role: str = "viewer"
    admin_emails: str = ""
    allow_unauthenticated_network: bool = False
    llm_model: str | None = None
    llm_base_url: str = "https://api.openai.com/v1"
    llm_api_key: str | None = field(default=None, repr=False)
    llm_timeout_s: float = 60.0
    archive_url: str | None = None
    archive_s3_endpoint_url: str | None = None
    archive_s3_access_key_id: str | None = field(default=None, repr=False)
    archive_s3_secret_access_key: str | None = field(default=None, repr=False)
    archive_s3_region: str | None = None
    archive_retention_days: int = 0
    archive_link_seconds: int = 300
    archive_timeout_s: float = 30.0

    @property
    def sandbox(self) -> bool:
        """True when no HeyGen key is set: the app talks to the built-in sandbox."""
        return not self.heygen_api_key

    @property
    def mode(self) -> str:
        """``"sandbox"`` or ``"live"``."""
        return "sandbox" if self.sandbox else "live"

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL in force: ``DATABASE_URL`` or ``sqlite:///<DATA_DIR>/reels.db``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'reels.db'}"

    @property
    def team_mode(self) -> bool:
        """True when Reel Studio runs for a team: the database is not the local SQLite file (PostgreSQL)."""
        return not self.db_url.startswith("sqlite")

    @property
    def http_cache_location(self) -> str:
        """Where HTTP responses are cached: a Redis URL, or a SQLite file path per mode."""
        return self.http_cache_url or str(self.data_dir / f"http_cache_{self.mode}.sqlite")

    @property
    def trusted_proxy_list(self) -> tuple[str, ...]:
        """``TRUSTED_PROXIES`` as a tuple of addresses or CIDR ranges (empty: trust no forwarded header)."""
        return tuple(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    @property
    def catalog_cache_seconds(self) -> float:
        """Catalog cache lifetime in seconds."""
        return self.catalog_cache_hours * 3600.0

    @property
    def masked_api_key(self) -> str:
        """The key as it may be shown: ``sk_V…9f2c`` style, or ``(none)``."""
        return mask_secret(self.heygen_api_key)


def mask_secret(value: str | None) -> str:
    """Mask a secret for display: first 4 and last 4 characters, or fewer for short values."""
    if not value:
        return "(none)"
    if len(value) <= 12:
        return "•" * 8
    return f"{value[:4]}…{value[-4:]}"


def _parse(name: str, raw: Any, kind: type, source: str) -> Any:
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind is Path:
            return Path(str(raw)).expanduser()
        return kind(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"{source} must be a {kind.__name__}, got {raw!r}.") from None


def read_secrets_file(path: Path | None = None) -> dict[str, Any]:
    """Read the optional secrets TOML; a missing file gives ``{}``.

    Raises:
        SettingsError: the file exists but is not valid TOML.
    """
    path = path or DEFAULT_SECRETS_PATH
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}.") from None


def load_settings(env: Mapping[str, str] | None = None, secrets_path: Path | None = None) -> Settings:
    """Build :class:`Settings` from ``env`` (default ``os.environ``) over the secrets file.

    Relative ``DATA_DIR`` values resolve against the project root.

    Raises:
        SettingsError: a value has the wrong type or an unknown choice; the message
            names the environment variable or TOML key.
    """
    env = os.environ if env is None else env
    secrets = read_secrets_file(secrets_path)
    values: dict[str, Any] = {}
    for name, spec in SPEC.items():
        if spec.env in env and env[spec.env].strip() != "":
            value = _parse(name, env[spec.env], spec.kind, spec.env)
        else:
            raw = secrets.get(spec.section, {}).get(spec.key)
            value = None if raw is None else _parse(name, raw, spec.kind, f"[{spec.section}] {spec.key}")
        if value is not None:
            values[name] = value
    settings = Settings(**values)
    if not settings.data_dir.is_absolute():
        object.__setattr__(settings, "data_dir", PROJECT_ROOT / settings.data_dir)
    if settings.worker_mode not in {"embedded", "external", "off"}:
        raise SettingsError("WORKER_MODE must be embedded, external or off.")
    if settings.default_engine not in {"avatar_iv", "avatar_v", "avatar_iii"}:
        raise SettingsError("DEFAULT_ENGINE must be avatar_iv, avatar_v or avatar_iii.")
    if settings.heygen_concurrency < 1:
        raise SettingsError("HEYGEN_CONCURRENCY must be at least 1.")
    if settings.log_format not in {"text", "json"}:
        raise SettingsError("LOG_FORMAT must be text or json.")
    object.__setattr__(settings, "log_level", settings.log_level.upper())
    if settings.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR.")
    if settings.default_role not in {"viewer", "producer", "admin"}:
        raise SettingsError("DEFAULT_ROLE must be viewer, producer or admin.")
    if not 1.0 <= settings.llm_timeout_s <= 600.0:
        raise SettingsError("LLM_TIMEOUT_SECONDS must be between 1 and 600.")
    if settings.archive_retention_days < 0:
        raise SettingsError("ARCHIVE_RETENTION_DAYS must be 0 (keep forever) or a number of days.")
    if not 1 <= settings.archive_link_seconds <= 604_800:
        raise SettingsError("ARCHIVE_LINK_SECONDS must be between 1 and 604800 (7 days).")
    if settings.archive_timeout_s <= 0:
        raise SettingsError("ARCHIVE_TIMEOUT_SECONDS must be more than 0.")
    return settings


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``redis://:s3cret@host:6379/0`` → ``redis://:***@host:6379/0``).

    Plain paths are returned unchanged. For SQLAlchemy URLs prefer
    ``engine.url.render_as_string(hide_password=True)``.
    """
    parts = urlsplit(url)
    if not parts.scheme or parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
