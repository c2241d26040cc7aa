"""Ed25519 signatures for hand-in receipts. The server holds this key; it signs, it never decrypts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from invigil.kit.envelope import b64d, b64e, canonical_json


def load_or_create(path: Path) -> ed25519.Ed25519PrivateKey:
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 key")
        return key
    key = ed25519.Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_or_create(path)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_b64(key: ed25519.Ed25519PrivateKey) -> str:
    return b64e(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def sign(key: ed25519.Ed25519PrivateKey, body: dict[str, Any]) -> str:
    return b64e(key.sign(canonical_json(body)))


def verify(public_key_b64: str, body: dict[str, Any], signature: str) -> bool:
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(b64d(public_key_b64)).verify(
            b64d(signature), canonical_json(body)
        )
    except (InvalidSignature, ValueError):
        return False
    return True
