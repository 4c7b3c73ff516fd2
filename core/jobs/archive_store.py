"""Where archived videos live: a folder under ``DATA_DIR`` by default, or any fsspec URL.

:class:`ArchiveStore` wraps one fsspec filesystem (``file`` for the default folder, ``s3`` through
s3fs for ``s3://bucket/prefix`` with the endpoint and credentials settings). Keys are relative
paths such as ``<video_id>/video.mp4``.

Writes are atomic: a download first grows a *spool* file (``<root>/.partial/`` for a local store,
``DATA_DIR/archive-spool/`` for a remote one) that survives a crash so the next try resumes; only a
complete, verified file is committed — ``os.replace`` on the same filesystem, or one S3 ``PUT`` (a
multipart upload is invisible until it completes). So the store never holds a half-written object.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from core.config import Settings

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ArchiveStoreError(RuntimeError):
    """The archive store could not be reached or written; the message is one sentence without secrets."""


@dataclass(frozen=True)
class StoredObject:
    """One object found in the store: ``key`` relative to the root, ``size_bytes`` bytes."""

    key: str
    size_bytes: int


def store_options(settings: Settings) -> dict[str, Any]:
    """fsspec storage options for ``settings.archive_url`` (S3 endpoint, credentials, region); ``{}`` when local."""
    url = settings.archive_url or ""
    if not url.startswith(("s3://", "s3a://")):
        return {}
    options: dict[str, Any] = {}
    client_kwargs: dict[str, Any] = {}
    if settings.archive_s3_endpoint_url:
        options["endpoint_url"] = settings.archive_s3_endpoint_url
    if settings.archive_s3_region:
        client_kwargs["region_name"] = settings.archive_s3_region
    if settings.archive_s3_access_key_id:
        options["key"] = settings.archive_s3_access_key_id
    if settings.archive_s3_secret_access_key:
        options["secret"] = settings.archive_s3_secret_access_key
    if client_kwargs:
        options["client_kwargs"] = client_kwargs
    # A broken or unreachable endpoint should fail a try within seconds, not stall the worker.
    options["config_kwargs"] = {"connect_timeout": 5, "read_timeout": 30, "retries": {"max_attempts": 2}}
    return options


class ArchiveStore:
    """One archive location.

    Args:
        url: a local folder path, ``file://…`` or any fsspec URL (``s3://bucket/prefix``).
        spool_dir: local folder for partial downloads when the store is remote.
        options: fsspec storage options (see :func:`store_options`); never logged.

    Raises:
        ArchiveStoreError: the URL's protocol is unknown or its filesystem package is missing.
    """

    def __init__(self, url: str, *, spool_dir: Path, options: dict[str, Any] | None = None) -> None:
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **(options or {}))
        except (ImportError, ValueError) as exc:
            raise ArchiveStoreError(f"The archive location {display_url(url)} cannot be used: {exc}.") from None
        self.url = url
        self.root = root.rstrip("/")
        self.local = isinstance(self.fs, LocalFileSystem)
        self.spool_dir = Path(self.root) / ".partial" if self.local else spool_dir

    def __repr__(self) -> str:
        return f"ArchiveStore({display_url(self.url)!r})"

    @property
    def label(self) -> str:
        """The location as it may be shown (no credentials)."""
        return display_url(self.url)

    # -- keys -------------------------------------------------------------------------------------

    @staticmethod
    def key_for(video_id: str, name: str) -> str:
        """The key of file ``name`` (``video.mp4``) of HeyGen video ``video_id``: ``<video_id>/<name>``."""
        return f"{_part(video_id)}/{_part(name)}"

    def full_path(self, key: str) -> str:
        """The filesystem path of ``key`` (``/data/archive/<key>`` or ``bucket/prefix/<key>``)."""
        return f"{self.root}/{key}"

    def spool_path(self, key: str) -> Path:
        """The local partial file of ``key`` (kept across a crash for resuming)."""
        return self.spool_dir / key.replace("/", "__")

    # -- reading ----------------------------------------------------------------------------------

    def size(self, key: str) -> int | None:
        """Size in bytes of ``key``, or ``None`` when it is not there.

        Raises:
            ArchiveStoreError: the store cannot be reached.
        """
        try:
            return int(self.fs.size(self.full_path(key)))
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._error("read", exc) from None

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk for a local store (``None`` for a remote store or a missing file)."""
        if not self.local:
            return None
        path = Path(self.full_path(key))
        return path if path.is_file() else None

    def browser_url(self, key: str, *, expires_s: int, download_name: str | None = None) -> str | None:
        """A presigned URL valid for ``expires_s`` seconds (remote stores that can sign; else ``None``).

        ``download_name``: the browser saves the file under this name instead of playing it (S3's
        ``response-content-disposition``).

        Raises:
            ArchiveStoreError: signing failed.
        """
        if self.local:
            return None
        extra = {}
        if download_name and self.fs.protocol and "s3" in self.fs.protocol:
            extra["ResponseContentDisposition"] = f'attachment; filename="{_part(download_name)}"'
        try:
            return self.fs.sign(self.full_path(key), expiration=expires_s, **extra)
        except NotImplementedError:
            return None
        except Exception as exc:
            raise self._error("sign a link in", exc) from None

    def listing(self) -> list[StoredObject]:
        """Every committed object (partial spool files excluded).

        Raises:
            ArchiveStoreError: the store cannot be reached.
        """
        try:
            if not self.fs.exists(self.root):
                return []
            found = self.fs.find(self.root, detail=True)
        except Exception as exc:
            raise self._error("list", exc) from None
        out = []
        for path, info in sorted(found.items()):
            key = path[len(self.root):].lstrip("/") if path.startswith(self.root) else path
            if key.startswith(".partial/") or info.get("type") == "directory":
                continue
            out.append(StoredObject(key, int(info.get("size") or 0)))
        return out

    # -- writing ----------------------------------------------------------------------------------

    def commit(self, spool: Path, key: str) -> None:
        """Move the finished ``spool`` file to ``key`` in one step (rename, or one upload); removes the spool.

        Raises:
            ArchiveStoreError: the store cannot be written (the spool file stays for the next try).
        """
        target = self.full_path(key)
        try:
            if self.local:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                os.replace(spool, target)
                _fsync_dir(Path(target).parent)
                return
            self.fs.put_file(str(spool), target)
        except Exception as exc:
            raise self._error("write", exc) from None
        spool.unlink(missing_ok=True)

    def delete(self, keys: list[str]) -> None:
        """Remove ``keys`` (missing ones are ignored) and their empty folders.

        Raises:
            ArchiveStoreError: the store cannot be reached.
        """
        for key in keys:
            try:
                self.fs.rm_file(self.full_path(key))
            except FileNotFoundError:
                pass
            except Exception as exc:
                raise self._error("delete from", exc) from None
            self.spool_path(key).unlink(missing_ok=True)
            if self.local:
                folder = Path(self.full_path(key)).parent
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()

    def _error(self, verb: str, exc: Exception) -> ArchiveStoreError:
        return ArchiveStoreError(f"Could not {verb} the archive at {self.label} ({type(exc).__name__}).")


def _part(text: str) -> str:
    """One safe path segment: letters, digits, ``_.-`` only, never ``.``/``..`` or hidden."""
    return _SAFE.sub("_", text).lstrip(".") or "_"


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part."""
    return re.sub(r"//[^/@]*@", "//", url)


def build_store(settings: Settings) -> ArchiveStore:
    """The store of ``settings``: ``ARCHIVE_URL``, else the folder ``DATA_DIR/archive``.

    Raises:
        ArchiveStoreError: the URL cannot be used.
    """
    url = settings.archive_url or str(settings.data_dir / "archive")
    return ArchiveStore(url, spool_dir=settings.data_dir / "archive-spool", options=store_options(settings))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
