"""Log lines: JSON or text, with the reel's context, HeyGen request ids and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.logs import configure_logging, log_context, register_secret

KEY = "sk_LOG_3f9a1c0d8e7b6a5f4e3d2c1b0a998877"
WEBHOOK_SECRET = "whsec_Zm9vYmFyYmF6cXV4cXV1eA"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_line_carries_the_reel_context(output) -> None:
    configure_logging("json", stream=output)
    with log_context(reel_id=42, video_id="v_abc", attempt=2, workspace="marketing", actor="ann"):
        logging.getLogger("core.jobs.worker").info("submitted %s scenes", 3)
    logging.getLogger("core.jobs.worker").info("outside")
    first, second = lines(output)
    assert first["event"] == "submitted 3 scenes" and first["level"] == "info"
    assert first["logger"] == "core.jobs.worker"
    assert (first["reel_id"], first["video_id"], first["attempt"], first["workspace"], first["actor"]) == (
        42, "v_abc", 2, "marketing", "ann")
    assert first["timestamp"].endswith("Z")
    assert "reel_id" not in second


def test_none_values_are_left_out(output) -> None:
    configure_logging("json", stream=output)
    with log_context(reel_id=1, video_id=None):
        logging.getLogger("x").warning("w")
    (line,) = lines(output)
    assert line["reel_id"] == 1 and "video_id" not in line


def test_heygen_request_id_from_extra(output) -> None:
    configure_logging("json", stream=output)
    logging.getLogger("core.heygen.client").info("HeyGen POST /v3/videos -> 200",
                                                 extra={"heygen_request_id": "req_123", "secret_thing": "x"})
    (line,) = lines(output)
    assert line["heygen_request_id"] == "req_123" and "secret_thing" not in line


def test_secrets_are_masked_in_json_and_in_tracebacks(output) -> None:
    register_secret(KEY)
    configure_logging("json", stream=output)
    log = logging.getLogger("core.test")
    log.info("key %s and secret %s", KEY, WEBHOOK_SECRET)
    try:
        raise RuntimeError(f"failed with {KEY}")
    except RuntimeError:
        log.exception("boom")
    text = output.getvalue()
    assert KEY[4:-4] not in text and WEBHOOK_SECRET[6:-4] not in text
    assert "RuntimeError" in lines(output)[1]["exception"]


def test_text_format_is_one_readable_line(output) -> None:
    configure_logging("text", stream=output)
    with log_context(reel_id=7, attempt=1):
        logging.getLogger("core.jobs.worker").info("hello %s", KEY)
    line = output.getvalue().strip()
    assert "INFO core.jobs.worker: hello" in line and "reel_id=7 attempt=1" in line
    assert KEY[4:-4] not in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_unknown_format_and_context_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        configure_logging("xml")
    with pytest.raises(TypeError), log_context(password="x"):
        pass


def test_configuring_twice_keeps_one_handler(output) -> None:
    configure_logging("json", stream=output)
    configure_logging("json", stream=output)
    logging.getLogger("x").info("once")
    assert len(lines(output)) == 1
