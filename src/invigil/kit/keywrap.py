"""Private keys at rest: wrapped with a passphrase-derived key (PBKDF2-HMAC-SHA512 + AES-256-GCM).

The same construction is available in browsers through WebCrypto, which is why it was chosen over
a memory-hard KDF for key wrapping (see docs/adr/0003-key-wrapping.md). The recovery key file is
the institution's last resort: an X25519 private key wrapped this way, kept offline by the admin.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from invigil.kit.clock import iso, utcnow
from invigil.kit.envelope import b64d, b64e, key_id, raw_public

RECOVERY_FILE_TYPE = "invigil-recovery-key"
MIN_PASSPHRASE = 12


class WrongPassphrase(Exception):
    pass


class KeyFileError(Exception):
    pass


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    kdf = PBKDF2HMAC(algorithm=hashes.SHA512(), length=32, salt=salt, iterations=iterations)
    # NFC, so that "é" typed as one code point or as e + combining accent is the same passphrase (the
    # browser module normalizes the same way).
    return kdf.derive(unicodedata.normalize("NFC", passphrase).encode())


def wrap_secret(secret: bytes, passphrase: str, *, iterations: int, aad: bytes) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_derive(passphrase, salt, iterations)).encrypt(nonce, secret, aad)
    return {
        "kdf": "PBKDF2-HMAC-SHA512",
        "iterations": iterations,
        "salt": b64e(salt),
        "nonce": b64e(nonce),
        "ciphertext": b64e(ciphertext),
    }


def unwrap_secret(wrapped: dict[str, Any], passphrase: str, *, aad: bytes) -> bytes:
    try:
        key = _derive(passphrase, b64d(wrapped["salt"]), int(wrapped["iterations"]))
        return AESGCM(key).decrypt(b64d(wrapped["nonce"]), b64d(wrapped["ciphertext"]), aad)
    except InvalidTag as exc:
        raise WrongPassphrase("wrong passphrase (or the key file was altered)") from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise KeyFileError(f"wrapped key is malformed: {exc}") from exc


def private_raw(private_key: x25519.X25519PrivateKey) -> bytes:
    return private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def new_recovery_key(
    passphrase: str, institution: str, *, iterations: int
) -> tuple[dict[str, Any], x25519.X25519PublicKey]:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValueError(f"the recovery passphrase must have at least {MIN_PASSPHRASE} characters")
    private_key = x25519.X25519PrivateKey.generate()
    public_key = private_key.public_key()
    kid = key_id(public_key)
    document = {
        "type": RECOVERY_FILE_TYPE,
        "version": 1,
        "institution": institution,
        "kid": kid,
        "public_key": b64e(raw_public(public_key)),
        "created_at": iso(utcnow()),
        "wrapped_private_key": wrap_secret(
            private_raw(private_key), passphrase, iterations=iterations, aad=kid.encode()
        ),
    }
    return document, public_key


def write_key_file(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh, indent=2)
        fh.write("\n")


def load_recovery_key(path: Path, passphrase: str) -> x25519.X25519PrivateKey:
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise KeyFileError(f"no recovery key file at {path}") from exc
    except ValueError as exc:
        raise KeyFileError(f"{path} is not a recovery key file (not JSON)") from exc
    if not isinstance(document, dict) or document.get("type") != RECOVERY_FILE_TYPE:
        raise KeyFileError(f"{path} is not an Invigil recovery key file")
    raw = unwrap_secret(document["wrapped_private_key"], passphrase, aad=str(document["kid"]).encode())
    private_key = x25519.X25519PrivateKey.from_private_bytes(raw)
    if key_id(private_key.public_key()) != document["kid"]:
        raise KeyFileError("recovery key file is inconsistent (key id does not match)")
    return private_key
