"""The archive's downloader, store settings and backoff with HTTP mocked by ``responses``."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import responses

from core.config import Settings
from core.jobs.archive import BACKOFF_MAX_S, backoff_s
from core.jobs.archive_download import DownloadError, LinkExpiredError, download, probe
from core.jobs.archive_store import ArchiveStore, display_url, store_options

URL = "https://files.heygen.example/v/abc/video.mp4?Expires=1&Signature=x"
BODY = bytes(range(256)) * 40  # 10,240 bytes


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@responses.activate
def test_a_whole_file_is_stored_with_its_size_and_checksum(tmp_path: Path) -> None:
    responses.get(URL, body=BODY, content_type="video/mp4")
    got = download(URL, tmp_path / "spool")
    assert (got.size_bytes, got.sha256, got.content_type) == (len(BODY), sha(BODY), "video/mp4")
    assert (tmp_path / "spool").read_bytes() == BODY
    assert responses.calls[0].request.headers["Accept-Encoding"] == "identity"
    assert "Range" not in responses.calls[0].request.headers


@responses.activate
def test_a_partial_file_is_continued_with_a_range_request(tmp_path: Path) -> None:
    (tmp_path / "spool").write_bytes(BODY[:4000])

    def ranged(request):
        assert request.headers["Range"] == "bytes=4000-"
        return 206, {"Content-Range": f"bytes 4000-{len(BODY) - 1}/{len(BODY)}"}, BODY[4000:]

    responses.add_callback(responses.GET, URL, callback=ranged)
    got = download(URL, tmp_path / "spool")
    assert got.sha256 == sha(BODY) and (tmp_path / "spool").read_bytes() == BODY


@responses.activate
def test_a_server_that_ignores_range_makes_it_start_again(tmp_path: Path) -> None:
    (tmp_path / "spool").write_bytes(b"stale bytes from another try")
    responses.get(URL, body=BODY)  # 200 with the whole file despite the Range header
    got = download(URL, tmp_path / "spool")
    assert got.size_bytes == len(BODY) and got.sha256 == sha(BODY)


@responses.activate
def test_a_partial_file_that_is_already_complete_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "spool").write_bytes(BODY)
    responses.get(URL, status=416, headers={"Content-Range": f"bytes */{len(BODY)}"})
    got = download(URL, tmp_path / "spool")
    assert got.size_bytes == len(BODY) and got.sha256 == sha(BODY)


@pytest.mark.parametrize("status", [403, 404, 410])
@responses.activate
def test_an_expired_link_is_reported_as_such(tmp_path: Path, status: int) -> None:
    responses.get(URL, status=status)
    with pytest.raises(LinkExpiredError, match=str(status)):
        download(URL, tmp_path / "spool")


@responses.activate
def test_a_refused_download_is_not_retried(tmp_path: Path) -> None:
    responses.get(URL, status=400)
    with pytest.raises(DownloadError) as caught:
        download(URL, tmp_path / "spool")
    assert caught.value.retry is False and "Signature" not in str(caught.value)


@responses.activate
def test_server_errors_are_retried_a_few_times_then_reported(tmp_path: Path) -> None:
    responses.get(URL, status=503)
    with pytest.raises(DownloadError, match="503") as caught:
        download(URL, tmp_path / "spool", max_resumes=2)
    assert caught.value.retry is True and len(responses.calls) == 3


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff_s(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert backoff_s(50) == BACKOFF_MAX_S == 3600.0


def test_s3_options_carry_endpoint_and_credentials_but_repr_hides_the_secret() -> None:
    settings = dataclasses.replace(Settings(), archive_url="s3://bucket/prefix", archive_s3_endpoint_url="http://127.0.0.1:9",
                                   archive_s3_access_key_id="id-1", archive_s3_secret_access_key="very-secret-value",
                                   archive_s3_region="eu-west-1")
    options = store_options(settings)
    assert options["endpoint_url"] == "http://127.0.0.1:9" and options["key"] == "id-1"
    assert options["secret"] == "very-secret-value" and options["client_kwargs"] == {"region_name": "eu-west-1"}
    assert "very-secret-value" not in repr(settings)
    assert store_options(dataclasses.replace(Settings(), archive_url="/srv/archive")) == {}


def test_urls_are_shown_without_credentials() -> None:
    assert display_url("s3://key:secret@bucket/prefix") == "s3://bucket/prefix"
    assert display_url("/data/archive") == "/data/archive"


def test_keys_are_safe_paths(tmp_path: Path) -> None:
    store = ArchiveStore(str(tmp_path), spool_dir=tmp_path / "spool")
    assert store.key_for("../../etc", "pass wd") == "_.._etc/pass_wd"
    assert store.key_for("..", ".hidden") == "_/hidden"
    assert store.local_path("missing/video.mp4") is None and store.listing() == []


def test_probe_rejects_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "not.mp4"
    path.write_bytes(b"plain text, not a video")
    with pytest.raises(DownloadError, match="not a readable video"):
        probe(path)
