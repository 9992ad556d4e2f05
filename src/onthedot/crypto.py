"""Encryption of channel credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256).

`ONTHEDOT_SECRET_KEY` holds one key or several separated by commas: the first encrypts, all
decrypt, so a key can be rotated without re-connecting every channel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from onthedot.config import Settings
from onthedot.errors import ConfigurationError

DEMO_KEY_FILE = Path(".onthedot-secret")


class CredentialBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("no encryption key given")
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "ONTHEDOT_SECRET_KEY is not a valid Fernet key (32 url-safe base64-encoded "
                "bytes); create one with `onthedot secret generate`"
            ) from exc

    def seal(self, credentials: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken as exc:
            raise ConfigurationError(
                "channel credentials cannot be decrypted with ONTHEDOT_SECRET_KEY; was the key "
                "changed? Add the old key after the new one, separated by a comma"
            ) from exc
        assert isinstance(data, dict)
        return data


def generate_key() -> str:
    return Fernet.generate_key().decode()


def credential_box(settings: Settings) -> CredentialBox:
    """The box for these settings; the demo keeps a generated key in a local file."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value().strip():
        return CredentialBox(settings.secret_key.get_secret_value().split(","))
    if settings.demo:
        if not DEMO_KEY_FILE.exists():
            DEMO_KEY_FILE.write_text(generate_key())
            DEMO_KEY_FILE.chmod(0o600)
        return CredentialBox([DEMO_KEY_FILE.read_text().strip()])
    raise ConfigurationError(
        "ONTHEDOT_SECRET_KEY is not set: it encrypts channel credentials. Create one with "
        "`onthedot secret generate` and export it, or start the demo with `make run`"
    )
