"""Sealed evidence envelopes (DESIGN.md §5).

An envelope is what leaves the candidate's machine. A fresh 256-bit data key encrypts the body in
chunks with AES-256-GCM; the data key is sealed with HPKE (RFC 9180 base mode,
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to every recipient. The context (exam,
session, item, kind) is bound twice: into HPKE's ``info`` for the data key and, through the header
hash, into every chunk's associated data. A blob moved to another candidate or exam does not open.

Layout::

    b"INVGENV1" | u32 header length | header (canonical JSON) | chunk_0 | ... | chunk_n-1

The framing (chunks, nonces, associated data) is kit/framing.py's, shared with the PIN-sealed
assignment files: truncation, reordering and appending are all detected. The server can check the
structure (``read_header`` and ``expected_length``) without being able to read anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from invigil.kit import framing
from invigil.kit.framing import canonical_json

MAGIC = b"INVGENV1"
VERSION = 1
SUITE_NAME = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
SEALED_KEY_LEN = 32 + 32 + 16  # enc | sealed 32-byte data key | tag
TAG_LEN = framing.TAG_LEN
DEFAULT_CHUNK = 64 * 1024
MAX_HEADER = 64 * 1024
PREFIX_MAX = 12 + MAX_HEADER  # magic, length and the largest header: all read_header ever needs
MAX_RECIPIENTS = 32


class EnvelopeError(Exception):
    """Base for everything that can be wrong with an envelope; the message says what."""


class NotAnEnvelope(EnvelopeError):
    pass


class WrongContext(EnvelopeError):
    pass


class NotARecipient(EnvelopeError):
    pass


class TamperedEnvelope(EnvelopeError):
    pass


@dataclass(frozen=True)
class Context:
    exam_id: str
    session_id: str
    item_id: str
    kind: str

    def as_dict(self) -> dict[str, str]:
        return {"exam": self.exam_id, "session": self.session_id, "item": self.item_id, "kind": self.kind}

    def encode(self) -> bytes:
        return canonical_json(self.as_dict())


@dataclass(frozen=True)
class Header:
    context: Context
    recipients: dict[str, bytes]  # key id -> HPKE-sealed data key
    chunk: int
    size: int
    raw: bytes  # the exact prefix bytes (magic, length, header JSON), for the AAD

    @property
    def n_chunks(self) -> int:
        return framing.n_chunks(self.size, self.chunk)

    @property
    def expected_length(self) -> int:
        return framing.sealed_length(len(self.raw), self.size, self.chunk)


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def raw_public(public_key: x25519.X25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: x25519.X25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 bytes of its SHA-256, in hex."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:32]


def public_key_from_b64(text: str) -> x25519.X25519PublicKey:
    return x25519.X25519PublicKey.from_public_bytes(b64d(text))


def _dek_info(ctx: Context) -> bytes:
    return b"invigil/v1/data-key\x00" + ctx.encode()


def seal_small(data: bytes, public_key: x25519.X25519PublicKey, info: bytes) -> bytes:
    """Single-shot HPKE for small secrets (data keys, exam private keys)."""
    return SUITE.encrypt(data, public_key, info=info)


def open_small(sealed: bytes, private_key: x25519.X25519PrivateKey, info: bytes) -> bytes:
    try:
        return SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError) as exc:
        raise TamperedEnvelope("the sealed key does not open with this key and context") from exc


def seal_stream(
    src: BinaryIO,
    size: int,
    dst: BinaryIO,
    ctx: Context,
    recipients: list[x25519.X25519PublicKey],
    chunk: int = DEFAULT_CHUNK,
) -> None:
    """Seal ``size`` bytes read from ``src`` into ``dst`` for every recipient."""
    if not recipients:
        raise ValueError("an envelope needs at least one recipient")
    dek = AESGCM.generate_key(bit_length=256)
    info = _dek_info(ctx)
    header = {
        "v": VERSION,
        "suite": SUITE_NAME,
        "ctx": ctx.as_dict(),
        "chunk": chunk,
        "size": size,
        "recipients": [{"kid": key_id(pk), "sealed": b64e(seal_small(dek, pk, info))} for pk in recipients],
    }
    prefix = framing.write_prefix(dst, MAGIC, header)
    framing.seal_chunks(src, size, dst, dek, chunk, prefix)


def seal_bytes(
    data: bytes, ctx: Context, recipients: list[x25519.X25519PublicKey], chunk: int = DEFAULT_CHUNK
) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(data), len(data), out, ctx, recipients, chunk)
    return out.getvalue()


def seal_file(src_path: Path, dst: BinaryIO, ctx: Context, recipients: list[x25519.X25519PublicKey]) -> None:
    with open(src_path, "rb") as src:
        seal_stream(src, os.fstat(src.fileno()).st_size, dst, ctx, recipients)


def read_header(stream: BinaryIO) -> Header:
    """Parse and check the envelope prefix; raises NotAnEnvelope with the reason."""
    raw, doc = framing.read_prefix(
        stream,
        MAGIC,
        MAX_HEADER,
        NotAnEnvelope,
        what="sealed envelope",
        wrong_magic="not a sealed Invigil envelope (wrong magic bytes): evidence must be sealed",
        header="envelope header",
    )
    try:
        fields = (("exam_id", "exam"), ("session_id", "session"), ("item_id", "item"), ("kind", "kind"))
        ctx = Context(**{k: str(doc["ctx"][s]) for k, s in fields})
        chunk, size = int(doc["chunk"]), int(doc["size"])
        recipients = {str(r["kid"]): b64d(r["sealed"]) for r in doc["recipients"]}
        version, suite = doc["v"], doc["suite"]
    except (ValueError, KeyError, TypeError) as exc:
        raise NotAnEnvelope(f"envelope header is malformed ({exc.__class__.__name__})") from exc
    if version != VERSION or suite != SUITE_NAME:
        raise NotAnEnvelope(f"unsupported envelope version/suite {version}/{suite}")
    if not 1024 <= chunk <= 4 * 1024 * 1024 or not 0 <= size <= 1 << 40:
        raise NotAnEnvelope("envelope chunk size or length is out of range")
    if not 1 <= len(recipients) <= MAX_RECIPIENTS or any(
        len(v) != SEALED_KEY_LEN for v in recipients.values()
    ):
        raise NotAnEnvelope("envelope recipients are malformed")
    framing.check_canonical(doc, raw, NotAnEnvelope, "envelope header")
    return Header(ctx, recipients, chunk, size, raw)


def check_envelope(prefix: bytes, total_length: int, ctx: Context, required_kid: str) -> Header:
    """What the server can check: structure, context, recipient, exact length."""
    header = read_header(io.BytesIO(prefix))
    if header.context != ctx:
        raise WrongContext(f"envelope was sealed for {header.context.as_dict()}, not for {ctx.as_dict()}")
    if required_kid not in header.recipients:
        raise NotARecipient("envelope is not sealed to this exam's current key")
    if header.expected_length != total_length:
        raise NotAnEnvelope(
            f"envelope length {total_length} does not match its header ({header.expected_length})"
        )
    return header


def open_stream(
    src: BinaryIO,
    dst: BinaryIO,
    private_key: x25519.X25519PrivateKey,
    expected: Context | None = None,
) -> Header:
    """Open an envelope; every failure raises an EnvelopeError saying what is wrong."""
    header = read_header(src)
    if expected is not None and header.context != expected:
        raise WrongContext(f"envelope belongs to {header.context.as_dict()}, not to {expected.as_dict()}")
    kid = key_id(private_key.public_key())
    sealed = header.recipients.get(kid)
    if sealed is None:
        raise NotARecipient(f"this key ({kid[:12]}…) is not among the envelope's recipients")
    dek = open_small(sealed, private_key, _dek_info(header.context))
    framing.open_chunks(
        src,
        dst,
        dek,
        header.size,
        header.chunk,
        header.raw,
        truncated=lambda i: TamperedEnvelope(f"envelope is truncated in chunk {i}"),
        altered=lambda i: TamperedEnvelope(f"chunk {i} fails authentication: the envelope was altered"),
        extra=lambda: TamperedEnvelope("envelope has bytes after its last chunk"),
    )
    return header


def open_bytes(data: bytes, private_key: x25519.X25519PrivateKey, expected: Context | None = None) -> bytes:
    out = io.BytesIO()
    open_stream(io.BytesIO(data), out, private_key, expected)
    return out.getvalue()
