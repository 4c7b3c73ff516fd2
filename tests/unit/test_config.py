"""Settings: environment over the secrets file, types, errors, documentation in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import SPEC, SettingsError, load_settings, mask_secret

ROOT = Path(__file__).resolve().parents[2]


def _secrets(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    return path


def test_defaults_mean_sandbox_mode_with_files_in_data_dir(tmp_path: Path) -> None:
    s = load_settings(env={"DATA_DIR": str(tmp_path)}, secrets_path=tmp_path / "missing.toml")
    assert s.sandbox and s.mode == "sandbox"
    assert s.db_url == f"sqlite:///{tmp_path / 'reels.db'}"
    assert s.http_cache_location == str(tmp_path / "http_cache_sandbox.sqlite")
    assert s.catalog_cache_seconds == 18 * 3600


def test_environment_wins_over_secrets_file(tmp_path: Path) -> None:
    path = _secrets(tmp_path, '[heygen]\napi_key = "from-file-key-123456"\n[worker]\nconcurrency = 4\n')
    from_file = load_settings(env={}, secrets_path=path)
    assert from_file.heygen_api_key == "from-file-key-123456" and from_file.heygen_concurrency == 4
    both = load_settings(env={"HEYGEN_API_KEY": "from-env-key-abcdef", "HEYGEN_CONCURRENCY": "7"},
                         secrets_path=path)
    assert both.heygen_api_key == "from-env-key-abcdef" and both.heygen_concurrency == 7
    assert both.mode == "live"


def test_empty_values_fall_back_to_defaults(tmp_path: Path) -> None:
    s = load_settings(env={"HEYGEN_API_KEY": "  ", "DATABASE_URL": ""}, secrets_path=tmp_path / "none")
    assert s.sandbox and s.database_url is None


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"HEYGEN_CONCURRENCY": "ten"}, "HEYGEN_CONCURRENCY must be a int"),
        ({"CATALOG_CACHE_HOURS": "soon"}, "CATALOG_CACHE_HOURS must be a float"),
        ({"SANDBOX_ORIGINAL_MEDIA": "maybe"}, "SANDBOX_ORIGINAL_MEDIA must be a bool"),
        ({"WORKER_MODE": "sometimes"}, "WORKER_MODE must be embedded, external or off"),
        ({"DEFAULT_ENGINE": "avatar_ii"}, "DEFAULT_ENGINE must be"),
        ({"HEYGEN_CONCURRENCY": "0"}, "HEYGEN_CONCURRENCY must be at least 1"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict, fragment: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(fragment)):
        load_settings(env=env, secrets_path=tmp_path / "none")


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(env={}, secrets_path=_secrets(tmp_path, "[heygen\napi_key="))


def test_the_key_is_hidden_from_repr(tmp_path: Path) -> None:
    s = load_settings(env={"HEYGEN_API_KEY": "test-api-key-secretvalue123"}, secrets_path=tmp_path / "n")
    assert "secretvalue" not in repr(s)
    assert s.masked_api_key == "test…e123"
    assert mask_secret(None) == "(none)" and "short" not in mask_secret("short")


def test_every_setting_is_documented_in_example_and_readme() -> None:
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    readme = (ROOT / "README.md").read_text()
    for spec in SPEC.values():
        assert f"(env {spec.env})" in example, spec.env
        assert f"`{spec.env}`" in readme, spec.env
