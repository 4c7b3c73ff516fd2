"""Stored HeyGen keys: Fernet under SECRET_KEY, rotation, the local key file, team mode."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from core.access import keys
from core.access.keys import KeyBox, SecretKeyError, load_key_box
from core.config import load_settings

KEY = "sk_V2_hgu_live_0123456789abcdef"


def settings(tmp_path, **env):
    return load_settings(env={"DATA_DIR": str(tmp_path), **env}, secrets_path=tmp_path / "none.toml")


def test_round_trip_hides_the_key_and_uses_fresh_tokens():
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    one, two = box.encrypt(KEY), box.encrypt(KEY)
    assert KEY not in one and one != two
    assert box.decrypt(one) == KEY == box.decrypt(two)
    assert repr(box) == "KeyBox(source='SECRET_KEY')"


def test_a_passphrase_is_stretched_and_a_short_one_refused():
    box = KeyBox.from_secrets(["correct horse battery staple"])
    assert KeyBox.from_secrets(["correct horse battery staple"]).decrypt(box.encrypt(KEY)) == KEY
    with pytest.raises(SecretKeyError, match="at least 16 characters"):
        KeyBox.from_secrets(["short"])


def test_rotation_new_secret_first_old_still_opens_then_rotate_moves_it():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = KeyBox.from_secrets([old]).encrypt(KEY)
    both = KeyBox.from_secrets([new, old])
    assert both.decrypt(token) == KEY
    rotated = both.rotate(token)
    assert KeyBox.from_secrets([new]).decrypt(rotated) == KEY
    with pytest.raises(SecretKeyError) as info:
        KeyBox.from_secrets([new]).decrypt(token)
    assert token not in str(info.value) and KEY not in str(info.value)


def test_local_mode_generates_a_0600_key_file_once(tmp_path):
    box = load_key_box(settings(tmp_path))
    path = tmp_path / keys.KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    again = load_key_box(settings(tmp_path))
    assert path.read_text() == first
    assert again.decrypt(box.encrypt(KEY)) == KEY


def test_team_mode_without_secret_is_one_sentence(tmp_path):
    with pytest.raises(SecretKeyError) as info:
        load_key_box(settings(tmp_path, DATABASE_URL="postgresql+psycopg://db/reels"))
    message = str(info.value)
    assert message.startswith("SECRET_KEY must be set") and message.count(". ") == 0
    assert not (tmp_path / keys.KEY_FILE_NAME).exists()


def test_secret_key_setting_wins_over_the_key_file(tmp_path):
    secret = Fernet.generate_key().decode()
    box = load_key_box(settings(tmp_path, SECRET_KEY=secret))
    assert KeyBox.from_secrets([secret]).decrypt(box.encrypt(KEY)) == KEY
    assert not (tmp_path / keys.KEY_FILE_NAME).exists()
    assert secret not in repr(settings(tmp_path, SECRET_KEY=secret))


def test_generate_prints_a_fernet_key(capsys):
    assert keys.main(["generate"]) == 0
    Fernet(capsys.readouterr().out.strip().encode())


def test_team_mode_without_secret_key_stops_start_up_once_a_key_is_stored(tmp_path):
    from core.runtime import StartupError, key_box

    team = settings(tmp_path, DATABASE_URL="postgresql+psycopg://db/reels")
    assert key_box(team, lambda: False) is None  # an install from before workspaces keeps starting
    with pytest.raises(StartupError, match="^SECRET_KEY must be set when Reel Studio uses a shared database"):
        key_box(team, lambda: True)
    assert key_box(settings(tmp_path), lambda: True) is not None  # local mode: the key file
