"""The shipped Streamlit configuration (.streamlit/config.toml) keeps the settings the app relies on."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_no_full_garbage_collection_after_every_script_run() -> None:
    # A forced gc.collect(2) after each run holds the GIL for 100–700 ms with the catalog loaded and
    # delays every click's result in the browser (bench/browser.py).
    runner = tomllib.loads(CONFIG.read_text())["runner"]
    assert runner["postScriptGC"] is False


def test_streamlit_reads_the_setting(monkeypatch) -> None:
    """The key is one Streamlit knows (a misspelt key would be ignored silently)."""
    from streamlit import config

    monkeypatch.chdir(CONFIG.parents[1])  # Streamlit reads ./.streamlit/config.toml
    monkeypatch.delenv("STREAMLIT_RUNNER_POST_SCRIPT_GC", raising=False)
    try:
        config.get_config_options(force_reparse=True, options_from_flags={})
        assert config.get_option("runner.postScriptGC") is False
    finally:
        config.get_config_options(force_reparse=True)
