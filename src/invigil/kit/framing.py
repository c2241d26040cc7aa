"""The framing both sealed formats share (evidence envelopes in kit/envelope.py, PIN-sealed assignment
files in kit/pinseal.py)::

    magic (8 bytes) | u32 header length | header (canonical JSON) | chunk_0 | ... | chunk_n-1

Every chunk is ``AES-256-GCM(key, nonce = index as 11 bytes | last-chunk flag, aad = SHA-256(prefix))``
over ``chunk`` plaintext bytes (the last one may be shorter), so a changed header and truncated,
reordered or appended chunks are all detected. Each format brings its own header and its own words
for what went wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TAG_LEN = 16
PREFIX = struct.Struct(">8sI")

Fail = Callable[[str], Exception]


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def n_chunks(size: int, chunk: int) -> int:
    return max(1, math.ceil(size / chunk))


def sealed_length(prefix_len: int, size: int, chunk: int) -> int:
    return prefix_len + size + TAG_LEN * n_chunks(size, chunk)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def write_prefix(dst: BinaryIO, magic: bytes, header: dict[str, Any]) -> bytes:
    body = canonical_json(header)
    prefix = PREFIX.pack(magic, len(body)) + body
    dst.write(prefix)
    return prefix


def read_prefix(
    stream: BinaryIO, magic: bytes, max_header: int, fail: Fail, *, what: str, wrong_magic: str, header: str
) -> tuple[bytes, dict[str, Any]]:
    """The exact prefix bytes and the parsed, canonical header; ``fail`` builds the error to raise."""
    head = stream.read(PREFIX.size)
    if len(head) < PREFIX.size:
        raise fail(f"too short to be a {what}")
    found, length = PREFIX.unpack(head)
    if found != magic:
        raise fail(wrong_magic)
    if not 0 < length <= max_header:
        raise fail(f"{header} length {length} is out of range")
    body = stream.read(length)
    if len(body) != length:
        raise fail(f"{header} is truncated")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise fail(f"{header} is malformed ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict):
        raise fail(f"{header} is malformed (not an object)")
    return head + body, doc


def check_canonical(doc: dict[str, Any], prefix: bytes, fail: Fail, header: str) -> None:
    """One header, one encoding: anything else was not written by us."""
    if canonical_json(doc) != prefix[PREFIX.size :]:
        raise fail(f"{header} is not in canonical form")


def seal_chunks(src: BinaryIO, size: int, dst: BinaryIO, key: bytes, chunk: int, prefix: bytes) -> None:
    """Encrypt ``size`` bytes from ``src`` in chunks after ``prefix`` (already written)."""
    aad = hashlib.sha256(prefix).digest()
    aes = AESGCM(key)
    count, remaining = n_chunks(size, chunk), size
    for index in range(count):
        part = src.read(min(chunk, remaining))
        if len(part) != min(chunk, remaining):
            raise ValueError("the source ended before its announced size")
        remaining -= len(part)
        dst.write(aes.encrypt(_nonce(index, index == count - 1), part, aad))


def open_chunks(
    src: BinaryIO,
    dst: BinaryIO,
    key: bytes,
    size: int,
    chunk: int,
    prefix: bytes,
    *,
    truncated: Callable[[int], Exception],
    altered: Callable[[int], Exception],
    extra: Callable[[], Exception],
) -> None:
    """Decrypt the chunks that follow ``prefix`` (already read from ``src``) into ``dst``."""
    aad = hashlib.sha256(prefix).digest()
    aes = AESGCM(key)
    count, remaining = n_chunks(size, chunk), size
    for index in range(count):
        want = min(chunk, remaining) + TAG_LEN
        part = src.read(want)
        if len(part) != want:
            raise truncated(index)
        try:
            dst.write(aes.decrypt(_nonce(index, index == count - 1), part, aad))
        except InvalidTag as exc:
            raise altered(index) from exc
        remaining -= want - TAG_LEN
    if src.read(1):
        raise extra()
