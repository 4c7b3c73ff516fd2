"""Streaming ``multipart/form-data`` uploads for ``POST /v3/assets``, and HeyGen's upload limits.

The file is never read into memory: requests-toolbelt's ``MultipartEncoder`` streams it from disk
(or from the given bytes) with a known ``Content-Length``, and ``MultipartEncoderMonitor`` reports
progress as the body goes out. Each attempt opens its own encoder, so a re-sent upload starts from
the first byte. Uploads use a plain session without transport retries (a streamed body cannot be
rewound by urllib3); the client decides about re-sending.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.adapters import HTTPAdapter
from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

#: Largest file ``POST /v3/assets`` accepts, in bytes (32 MB, HeyGen's documented limit).
ASSET_MAX_BYTES = 32 * 1024 * 1024
#: File types HeyGen accepts on ``POST /v3/assets`` (by detected content).
ASSET_TYPES = ("png", "jpeg", "mp4", "webm", "mp3", "wav", "pdf", "srt")
#: Read timeout of an upload, in seconds (HeyGen's CLI allows 10 minutes).
UPLOAD_TIMEOUT_S = 600.0


def source_size(source: str | Path | bytes) -> int:
    """Size in bytes of a file path or a bytes object.

    Raises:
        FileNotFoundError: the path does not exist.
    """
    if isinstance(source, bytes | bytearray):
        return len(source)
    return Path(source).stat().st_size


@contextlib.contextmanager
def _opened(source: str | Path | bytes) -> Iterator[BinaryIO]:
    if isinstance(source, bytes | bytearray):
        yield io.BytesIO(bytes(source))
    else:
        with Path(source).open("rb") as fh:
            yield fh


def post_multipart(url: str, source: str | Path | bytes, *, filename: str, content_type: str | None,
                   headers: dict[str, str], progress: Callable[[int, int], None] | None,
                   timeout: tuple[float, float]) -> requests.Response:
    """POST ``source`` as the multipart field ``file`` to ``url`` and return the response (any status).

    ``progress(sent, total)`` is called with bytes of the request body sent so far.

    Raises:
        requests.RequestException: no response (connection refused or dropped, timeout).
    """
    with _opened(source) as fh, requests.Session() as http:
        http.mount("http://", HTTPAdapter(max_retries=0))
        http.mount("https://", HTTPAdapter(max_retries=0))
        encoder = MultipartEncoder(fields={"file": (filename, fh, content_type or "application/octet-stream")})
        callback: Any = (lambda m: progress(m.bytes_read, m.len)) if progress else None
        body = MultipartEncoderMonitor(encoder, callback)
        return http.post(url, data=body, headers={**headers, "Content-Type": body.content_type}, timeout=timeout)
