"""Sealing secrets the server must read back later (webhook signing secrets) with a key of its
own, so the database never holds them in plain text.

The key is a Fernet key (AES-128-CBC with HMAC-SHA256, from ``cryptography``): the
operator's setting when given (every machine sharing a database needs the same one), else a
file in the data folder made on first use, readable by its owner only. A database copied
without that key yields no secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from openreel.errors import ConfigurationError

__all__ = ["KEY_FILE", "SecretBox", "load_or_create_box"]

KEY_FILE = "webhooks.key"
"""Name of the sealing key's file inside the data folder (mode 0600)."""


class SecretBox:
    """Seals and opens short secrets with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise ConfigurationError(
                "OPENREEL_WEBHOOKS__KEY must be a Fernet key (32 url-safe base64-encoded "
                "bytes, as `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` prints)"
            ) from exc

    def seal(self, secret: str) -> str:
        """The sealed form of ``secret``, safe to store."""
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        """The secret a :meth:`seal` made.

        Raises:
            ConfigurationError: Sealed with another key (the key file or setting changed).
        """
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ConfigurationError(
                "a webhook secret cannot be opened with this server's key: the key "
                f"({KEY_FILE} in the data folder, or OPENREEL_WEBHOOKS__KEY) is not the one "
                "that sealed it; use the same key on every server and worker"
            ) from None


def load_or_create_box(data_dir: Path, key: str | None = None) -> SecretBox:
    """The box of the operator's ``key``, else of the data folder's key file (made on first
    use with mode 0600). The file is written whole under a private name and linked into place,
    so two processes racing to make it both end up with the winner's, never a half-written
    one."""
    if key:
        return SecretBox(key.encode())
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = data_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return SecretBox(path.read_bytes().strip())
