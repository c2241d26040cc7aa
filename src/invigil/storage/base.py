"""The BlobStore protocol every implementation satisfies (tests/integration/test_storage.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

# Segments start with a letter, digit, '_' or '-' (no '.', '..', hidden or temp names) and are short
# enough for every filesystem and S3 implementation.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,254})*$")


class BlobNotFound(KeyError):
    pass


class InvalidKey(ValueError):
    pass


def check_key(key: str) -> str:
    """Keys are built from validated ids only; refuse anything that could escape a prefix."""
    if not _KEY.match(key) or len(key) > 512:
        raise InvalidKey(f"invalid blob key {key!r:.80}")
    return key


@runtime_checkable
class BlobStore(Protocol):
    """Stores opaque bytes (always ciphertext) under keys like ``evidence/<exam>/<session>/<item>``."""

    name: str

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` atomically: readers see all of it or none of it."""

    def get(self, key: str) -> bytes:
        """Return the bytes, or raise BlobNotFound."""

    def get_range(self, key: str, start: int, length: int) -> bytes:
        """Return up to ``length`` bytes from ``start``, or raise BlobNotFound."""

    def size(self, key: str) -> int | None:
        """Size in bytes, or None when absent."""

    def delete(self, key: str) -> None:
        """Remove the blob; absent is fine."""

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (a folder-like prefix ending in '/')."""

    def check(self) -> None:
        """Raise with a clear message when the store cannot be used."""
