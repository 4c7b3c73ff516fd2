"""Worker start-up problems are one sentence and exit code 2; the traceback only at LOG_LEVEL=DEBUG."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_worker(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("HEYGEN_", "WEBHOOK_", "LOG_")) and k != "DATABASE_URL"}
    full_env.update({"DATA_DIR": str(tmp_path / "data"), "HEYGEN_API_KEY": "sk_STARTUP_test_key_0000", **env})
    return subprocess.run([sys.executable, "-m", "core.jobs", "--base-url", "http://127.0.0.1:9", *args],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def assert_one_sentence(result: subprocess.CompletedProcess, fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    sentences = [line for line in result.stderr.splitlines() if line.startswith("Reel Studio worker:")]
    assert len(sentences) == 1 and fragment in sentences[0], result.stderr
    assert result.stderr.rstrip().endswith(sentences[0])


def test_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://reels:hunter2secret@127.0.0.1:9/reels?connect_timeout=2"
    result = run_worker(tmp_path, "--once", DATABASE_URL=url)
    assert_one_sentence(result, "The database could not be opened")
    assert "hunter2secret" not in result.stderr


def test_data_folder_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_worker(tmp_path, "--once", DATA_DIR=str(blocker / "data"))
    assert_one_sentence(result, "is not writable")


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_worker(tmp_path, "--webhook-port", str(taken.getsockname()[1]))
    assert_one_sentence(result, "cannot be used")


def test_bad_setting(tmp_path: Path) -> None:
    assert_one_sentence(run_worker(tmp_path, "--once", LOG_FORMAT="xml"), "LOG_FORMAT")


@pytest.mark.parametrize("level", ["DEBUG"])
def test_traceback_only_at_debug(tmp_path: Path, level: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_worker(tmp_path, "--once", DATA_DIR=str(blocker / "data"), LOG_LEVEL=level,
                        DATABASE_URL="sqlite:///" + str(blocker / "x.db"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr
