"""Streaming, verified, resumable downloads of HeyGen media into a spool file, and probing of MP4s.

:func:`download` copies a presigned URL to a local spool file in fixed-size chunks (memory does not
grow with the file), hashing as it writes. It checks the length HeyGen announced
(``Content-Length``, or the total of ``Content-Range``), and after an interruption — a dropped
connection, a stall longer than the read timeout, a body shorter than announced, or a crash of the
whole process — it continues with ``Range: bytes=<have>-`` instead of starting over. A server that
ignores the range (``200``) makes it start again from byte 0. No API key is ever sent.

:func:`probe` reads duration and frame size from the file itself with the ffmpeg binary that
``imageio-ffmpeg`` ships.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import requests
import urllib3

log = logging.getLogger(__name__)

#: Bytes read and written at a time.
CHUNK_BYTES = 1 << 20
#: Bytes written between two hints to the kernel to start writing back (see ``_Sink``).
WRITEBACK_BYTES = 8 << 20
#: Connect timeout of media downloads, in seconds.
CONNECT_TIMEOUT_S = 5.0
#: Resumes within one :func:`download` call before it gives up (the caller retries later with backoff).
MAX_RESUMES = 4


class DownloadError(RuntimeError):
    """A download did not complete; ``str()`` is one sentence for people (no URL query, no secrets).

    ``retry``: worth trying again later (network, stall, truncation, 5xx, disk full).
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class LinkExpiredError(DownloadError):
    """The presigned link answered 403/404/410: fetch fresh links with ``GET /v3/videos/{id}``."""


class DiskFullError(DownloadError):
    """The spool or archive disk ran out of space; the partial file was removed."""


@dataclass(frozen=True)
class Downloaded:
    """A complete download: ``size_bytes`` bytes with ``sha256`` (hex), ``content_type`` as served,
    ``resumes`` how many times it continued after an interruption."""

    size_bytes: int
    sha256: str
    content_type: str | None
    resumes: int


Opener = Callable[[Path], BinaryIO]


def open_append(path: Path) -> BinaryIO:
    """The default :data:`Opener`: ``path`` opened for appending bytes."""
    return path.open("ab")


def _hash_existing(path: Path) -> tuple[hashlib._Hash, int]:
    digest = hashlib.sha256()
    size = 0
    if path.is_file():
        with path.open("rb") as fh:
            while block := fh.read(CHUNK_BYTES):
                digest.update(block)
                size += len(block)
    return digest, size


def _total_of(response: requests.Response, offset: int) -> int | None:
    """The full file size announced by a 206 (``Content-Range: bytes a-b/N``) or a 200 (``Content-Length``)."""
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else None


def download(url: str, spool: Path, *, http: requests.Session | None = None, timeout_s: float = 30.0,
             max_resumes: int = MAX_RESUMES, opener: Opener = open_append) -> Downloaded:
    """Download ``url`` into ``spool``, continuing a partial file left there by an earlier try.

    Args:
        url: an absolute presigned media URL.
        spool: the local partial file (created with its folder; left in place after an interruption so
            the next call resumes; removed when the disk is full or the content is inconsistent).
        http: a ``requests.Session`` (a fresh one by default).
        timeout_s: seconds without a byte before the stream counts as stalled.
        max_resumes: resumes within this call after interruptions.
        opener: opens ``spool`` for appending (tests inject a failing writer to simulate a full disk).

    Returns:
        :class:`Downloaded`; ``spool`` then holds exactly the announced bytes.

    Raises:
        LinkExpiredError: 403/404/410 (the presigned link expired or the file is gone).
        DiskFullError: no space left; nothing half-written is kept.
        DownloadError: network failure, stall, truncation or a server error after ``max_resumes`` resumes,
            or another HTTP error (``retry=False`` for 4xx).
    """
    spool.parent.mkdir(parents=True, exist_ok=True)
    digest, offset = _hash_existing(spool)
    resumes = 0
    problem = "the download did not start"
    own = http is None
    http = http or requests.Session()
    try:
        while True:
            try:
                result = _one_pass(http, url, spool, digest, offset, timeout_s, opener)
            except _Interrupted as stop:
                digest, offset, problem = stop.digest, stop.offset, stop.reason
            else:
                if isinstance(result, Downloaded):
                    return Downloaded(result.size_bytes, result.sha256, result.content_type, resumes)
                digest, offset, problem = result  # restarted from zero or truncated: go again
            if resumes >= max_resumes:
                raise DownloadError(f"The download kept failing ({problem}); it will be tried again later.")
            resumes += 1
            log.info("archive download resumes at byte %s (%s)", offset, problem)
    finally:
        if own:
            http.close()


class _Interrupted(Exception):
    def __init__(self, digest: hashlib._Hash, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.digest, self.offset, self.reason = digest, offset, reason


def _one_pass(http: requests.Session, url: str, spool: Path, digest: hashlib._Hash, offset: int,
              timeout_s: float, opener: Opener) -> Downloaded | tuple[hashlib._Hash, int, str]:
    # identity: the stored bytes, their length and their ranges are those of the file itself
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
    try:
        response = http.get(url, headers=headers, stream=True, timeout=(CONNECT_TIMEOUT_S, timeout_s))
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        raise DownloadError("HeyGen's link for this file is not a valid URL.", retry=False) from None
    except requests.RequestException as exc:
        raise _Interrupted(digest, offset, _reason(exc)) from None
    with response:
        if response.status_code == 416 and offset:
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if total.isdigit() and int(total) == offset:  # the earlier try had everything already
                return Downloaded(offset, digest.hexdigest(), response.headers.get("Content-Type"), 0)
            spool.unlink(missing_ok=True)
            return hashlib.sha256(), 0, "the partial file did not match the server's"
        if response.status_code >= 500 or response.status_code == 429:
            raise _Interrupted(digest, offset, f"HeyGen's file server answered {response.status_code}")
        _raise_for_status(response)
        if offset and response.status_code != 206:  # the server ignored Range: start again
            spool.unlink(missing_ok=True)
            digest, offset = hashlib.sha256(), 0
        total = _total_of(response, offset)
        offset = _copy_body(response, spool, digest, offset, opener)
        content_type = response.headers.get("Content-Type")
    if total is not None and offset < total:
        return digest, offset, f"the body ended after {offset:,} of {total:,} bytes"
    if total is not None and offset > total:
        spool.unlink(missing_ok=True)
        return hashlib.sha256(), 0, f"the server sent {offset:,} bytes instead of {total:,}"
    return Downloaded(offset, digest.hexdigest(), content_type, 0)


def _copy_body(response: requests.Response, spool: Path, digest: hashlib._Hash, offset: int,
               opener: Opener) -> int:
    try:
        with opener(spool) as fh, _Sink(fh, digest) as sink:
            try:
                for block in _blocks(response):
                    sink.put(block)
                    offset += len(block)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                sink.drain()
                raise _Interrupted(digest, offset, _reason(exc)) from None
            sink.drain()
    except OSError as exc:
        spool.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError("The archive disk is full; the partial file was removed and the copy will be "
                                "tried again later.") from None
        raise DownloadError(f"The archive file could not be written ({exc.strerror or type(exc).__name__}).") \
            from None
    return offset


class _Sink:
    """Writes and hashes blocks on a helper thread while the next block is received (``hashlib`` and file
    writes release the GIL); at most one block is in flight, so memory stays at two blocks."""

    def __init__(self, fh: BinaryIO, digest: hashlib._Hash) -> None:
        self.fh, self.digest = fh, digest
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-sink")
        self.pending: Future | None = None
        self.unsynced = 0

    def _store(self, block: bytes) -> None:
        self.fh.write(block)
        self.digest.update(block)
        self.unsynced += len(block)
        if self.unsynced >= WRITEBACK_BYTES and hasattr(os, "posix_fadvise"):
            # Start writing the data so far to disk now (as PostgreSQL's pg_flush_data does), so the final
            # fsync has little left to wait for and archived videos do not crowd out the page cache.
            self.fh.flush()
            os.posix_fadvise(self.fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            self.unsynced = 0

    def put(self, block: bytes) -> None:
        """Hand ``block`` over once the previous one is stored (re-raises the previous write's error)."""
        if self.pending is not None:
            self.pending.result()
        self.pending = self.pool.submit(self._store, block)

    def drain(self) -> None:
        """Wait for the last block, then flush and fsync the file."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()
        self.fh.flush()
        os.fsync(self.fh.fileno())

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pending is not None:  # an error left a block in flight: let it finish before closing
            self.pending.exception()
        self.pool.shutdown(wait=True)


def _blocks(response: requests.Response) -> Iterator[bytes]:
    """The body in pieces of at most :data:`CHUNK_BYTES`, each as soon as it arrived (``read1``), so an
    interrupted body keeps every byte that came before the cut."""
    raw = response.raw
    if not hasattr(raw, "read1"):  # not a urllib3 response (test doubles)
        yield from response.iter_content(chunk_size=CHUNK_BYTES)
        return
    while block := raw.read1(CHUNK_BYTES):
        yield block


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status in (403, 404, 410):
        raise LinkExpiredError(f"HeyGen's link answered {status}: it has expired or the file is gone.")
    if status >= 400:
        raise DownloadError(f"HeyGen's file server refused the download ({status}).", retry=False)


def _reason(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError):
        return "no data arrived within the timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | urllib3.exceptions.ProtocolError):
        return "the connection closed before the whole file arrived"
    return "the connection failed"


@dataclass(frozen=True)
class Probe:
    """What ffmpeg reads from a video file: ``width``/``height`` pixels, ``duration_s`` seconds (``None``
    when ffmpeg cannot tell)."""

    width: int | None
    height: int | None
    duration_s: float | None


def probe(path: Path) -> Probe:
    """Frame size and duration of the video at ``path``, read by imageio-ffmpeg's ffmpeg.

    Only the container header is parsed (no frame is decoded beyond the first).

    Raises:
        DownloadError: ffmpeg cannot read the file (``retry=False``: it is not a video).
    """
    import imageio_ffmpeg

    frames = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(frames)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise DownloadError(f"The archived file is not a readable video ({type(exc).__name__}).",
                            retry=False) from None
    finally:
        frames.close()
    size = meta.get("size") or (None, None)
    duration = meta.get("duration")
    return Probe(int(size[0]) if size[0] else None, int(size[1]) if size[1] else None,
                 float(duration) if duration else None)
