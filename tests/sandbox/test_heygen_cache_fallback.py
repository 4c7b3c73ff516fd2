"""A cache that cannot be used never stops HeyGen calls: a damaged file is moved aside and rebuilt, an
unreachable Redis means no cache; both say so in one sentence."""

from __future__ import annotations

from pathlib import Path

from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient


def client(sandbox, location: str) -> HeyGenClient:
    return HeyGenClient(SANDBOX_API_KEY, base_url=sandbox.url, cache_location=location)


def test_damaged_cache_file_is_moved_aside_and_rebuilt(sandbox, tmp_path: Path) -> None:
    path = tmp_path / "http_cache.sqlite"
    path.write_bytes(b"not a database " * 400)
    heygen = client(sandbox, str(path))
    assert heygen.list_voices()
    assert "damaged" in heygen.cache_warning and "moved" in heygen.cache_warning
    moved = list(tmp_path.glob("http_cache.sqlite.damaged-*"))
    assert len(moved) == 1 and moved[0].read_bytes().startswith(b"not a database")
    heygen.close()
    again = client(sandbox, str(path))  # the rebuilt file is a working cache
    again.list_voices()
    assert again.last_from_cache and again.cache_warning is None


def test_healthy_cache_file_is_kept(sandbox, tmp_path: Path) -> None:
    path = tmp_path / "http_cache.sqlite"
    first = client(sandbox, str(path))
    first.list_voices()
    first.close()
    second = client(sandbox, str(path))
    second.list_voices()
    assert second.cache_warning is None and second.last_from_cache
    assert not list(tmp_path.glob("*.damaged-*"))


def test_unreachable_redis_means_no_cache_with_a_warning(sandbox) -> None:
    heygen = client(sandbox, "redis://:hunter2secret@127.0.0.1:9/0")
    assert heygen.list_voices()
    heygen.list_voices()
    assert not heygen.last_from_cache
    assert "cannot be reached" in heygen.cache_warning and "hunter2secret" not in heygen.cache_warning


def test_cache_failing_mid_run_is_dropped(sandbox, tmp_path: Path) -> None:
    path = tmp_path / "http_cache.sqlite"
    heygen = client(sandbox, str(path))
    heygen.list_voices()
    heygen._session.cache.responses.close()  # the backend breaks under a running process
    path.write_bytes(b"\x00" * 8192)
    for companion in tmp_path.glob("http_cache.sqlite-*"):
        companion.write_bytes(b"\x00" * 4096)
    assert heygen.get_current_user().username
    assert "stopped working" in heygen.cache_warning
