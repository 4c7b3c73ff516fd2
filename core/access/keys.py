"""Stored secrets (workspace HeyGen API keys), encrypted at rest with Fernet under ``SECRET_KEY``.

- :func:`load_key_box` builds the :class:`KeyBox` from the settings: ``SECRET_KEY`` is one secret
  or several, comma-separated, newest first (``MultiFernet``: the first encrypts, all decrypt, so a
  secret can be rotated without a moment where stored keys cannot be read). A secret that is a
  Fernet key (44 URL-safe base64 characters) is used as it is; any other text of at least 16
  characters is stretched into one with HKDF-SHA256.
- On one machine (SQLite) with no ``SECRET_KEY`` a key file ``DATA_DIR/secret.key`` is generated
  once with permissions 0600 and used from then on. In team mode (a PostgreSQL database) a missing
  ``SECRET_KEY`` is a start-up error: replicas must share one secret.
- ``python -m core.access.keys rotate`` re-encrypts every stored key under the first secret
  (:func:`reencrypt_all`); ``python -m core.access.keys generate`` prints a fresh secret.

Neither plaintext nor ciphertext ever enters an exception message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.config import Settings

#: Name of the generated key file in ``DATA_DIR`` (local mode only).
KEY_FILE_NAME = "secret.key"
#: Shortest passphrase accepted as a secret (characters).
MIN_SECRET_CHARS = 16
_HKDF_INFO = b"reel-studio workspace keys v1"


class SecretKeyError(RuntimeError):
    """The secret that protects stored keys is missing or unusable, or a stored key cannot be read.

    ``str()`` is one sentence saying what to do; it never contains a key or ciphertext.
    """


def _fernet_for(secret: str) -> Fernet:
    """A :class:`Fernet` for one secret: itself when it is a Fernet key, else HKDF-SHA256 of its text."""
    secret = secret.strip()
    try:
        if len(base64.urlsafe_b64decode(secret.encode("ascii"))) == 32 and len(secret) == 44:
            return Fernet(secret.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    if len(secret) < MIN_SECRET_CHARS:
        raise SecretKeyError(f"SECRET_KEY must be at least {MIN_SECRET_CHARS} characters (or a Fernet key); "
                             "generate one with `python -m core.access.keys generate`.")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


@dataclass(frozen=True)
class KeyBox:
    """Encrypts and decrypts stored secrets (a ``MultiFernet`` over one or more secrets, newest first).

    Attributes:
        source: where the secrets came from, for people: ``"SECRET_KEY"`` or the key file's path.
    """

    fernet: MultiFernet = field(repr=False)
    source: str = "SECRET_KEY"

    @classmethod
    def from_secrets(cls, secrets: list[str], source: str = "SECRET_KEY") -> KeyBox:
        """A box over ``secrets`` (newest first).

        Raises:
            SecretKeyError: no secret, or one too short.
        """
        usable = [s for s in (x.strip() for x in secrets) if s]
        if not usable:
            raise SecretKeyError("SECRET_KEY is empty; set it to a secret of at least 16 characters.")
        return cls(MultiFernet([_fernet_for(s) for s in usable]), source)

    def encrypt(self, plaintext: str) -> str:
        """The Fernet token (URL-safe base64 text) of ``plaintext`` under the newest secret."""
        return self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of a token made by :meth:`encrypt` under any of the box's secrets.

        Raises:
            SecretKeyError: no secret of the box opens it (the secret changed without rotation).
        """
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            raise SecretKeyError(f"A stored HeyGen key cannot be decrypted with the secret from {self.source}; "
                                 "restore the previous SECRET_KEY (after the new one, comma-separated) and run "
                                 "`python -m core.access.keys rotate`.") from None

    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the newest secret.

        Raises:
            SecretKeyError: no secret of the box opens it.
        """
        try:
            return self.fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SecretKeyError(f"A stored HeyGen key cannot be decrypted with the secret from {self.source}; "
                                 "it was not re-encrypted.") from None


def _read_or_make_key_file(path: Path) -> str:
    """The secret in ``path``; when there is none, a new Fernet key written there with mode 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode("ascii") + "\n")
    return path.read_text("ascii").strip()


def load_key_box(settings: Settings) -> KeyBox:
    """The :class:`KeyBox` of this installation (see the module docstring).

    Raises:
        SecretKeyError: team mode without ``SECRET_KEY``; a secret too short; the key file unreadable.
    """
    if settings.secret_key:
        return KeyBox.from_secrets(settings.secret_key.split(","), "SECRET_KEY")
    if settings.team_mode:
        raise SecretKeyError("SECRET_KEY must be set when Reel Studio uses a shared database; generate one with "
                             "`python -m core.access.keys generate` and give every replica the same value.")
    path = settings.data_dir / KEY_FILE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = _read_or_make_key_file(path)
    except OSError as exc:
        raise SecretKeyError(f"The key file {path} cannot be read or created ({exc.strerror}); "
                             "set SECRET_KEY or make DATA_DIR writable.") from None
    return KeyBox.from_secrets([secret], str(path))


def reencrypt_all(session: Session, box: KeyBox) -> int:
    """Re-encrypt every stored workspace key under ``box``'s newest secret; the number re-encrypted. Commits.

    Raises:
        SecretKeyError: a stored key opens with none of the box's secrets (nothing is changed).
    """
    from core.models import Workspace

    workspaces = [w for w in session.query(Workspace).all() if w.api_key_encrypted]
    rotated = {w.id: box.rotate(w.api_key_encrypted) for w in workspaces}
    for workspace in workspaces:
        workspace.api_key_encrypted = rotated[workspace.id]
    session.commit()
    return len(rotated)


def main(argv: list[str] | None = None) -> int:
    """``python -m core.access.keys {generate|rotate}``: print a new secret, or re-encrypt every stored key."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.access.keys", description=main.__doc__)
    parser.add_argument("command", choices=("generate", "rotate"))
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(Fernet.generate_key().decode("ascii"))
        return 0
    from core.config import load_settings
    from core.db import make_engine, make_session_factory, migrate

    settings = load_settings()
    try:
        box = load_key_box(settings)
        engine = make_engine(settings.db_url)
        migrate(engine)
        with make_session_factory(engine)() as session:
            count = reencrypt_all(session, box)
    except SecretKeyError as exc:
        print(exc)
        return 2
    print(f"Re-encrypted {count} stored HeyGen key{'s' * (count != 1)} under the first secret of {box.source}.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
