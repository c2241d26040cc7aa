"""Assignment files sealed with a key derived from the exam PIN (docs/adr/0007-assignment-pin.md).

The coordinator's machine seals, the candidate's agent opens; the server only checks the structure.

Layout of one sealed file::

    b"INVGASG1" | u32 header length | header (canonical JSON) | chunk_0 | ... | chunk_n-1

    header = {"v": 1, "suite": SUITE_NAME, "exam": <exam id>, "name": <file name>,
              "size": <plaintext bytes>, "chunk": 65536, "file_salt": <16 bytes, base64>,
              "kdf": {"alg": "argon2id", "version": 19, "memory_kib": .., "iterations": ..,
                      "parallelism": .., "salt": <16 bytes per exam, base64>},
              "check": <16 bytes, base64>}

    master   = argon2id(normalized PIN, kdf.salt, kdf parameters) -> 32 bytes
    check    = HKDF-SHA256(master, info="invigil/v1/assignment-check\\0" exam)[:16]
    file key = HKDF-SHA256(master, salt=file_salt, info="invigil/v1/assignment-file\\0" exam "\\0" name)
    chunk_i  = AES-256-GCM(file key, nonce = i as 11 bytes | last-chunk flag, aad = SHA-256(prefix))

The prefix (and so the exam id and the file name) is every chunk's associated data and both go into
the file key, so a file moved to another exam or renamed does not open. ``check`` tells a wrong PIN
apart from a file altered after sealing; it helps a guesser no more than the first chunk's tag does.
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass
from hmac import compare_digest
from typing import Any, BinaryIO

from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from invigil.kit import framing
from invigil.kit import pin as pins
from invigil.kit.envelope import b64d, b64e
from invigil.kit.filenames import BadFileName, check_file_name

MAGIC = b"INVGASG1"
VERSION = 1
SUITE_NAME = "argon2id/HKDF-SHA256/AES-256-GCM"
DEFAULT_CHUNK = 64 * 1024
MAX_HEADER = 16 * 1024
PREFIX_MAX = framing.PREFIX.size + MAX_HEADER
SALT_LEN = CHECK_LEN = 16


@dataclass(frozen=True)
class KdfParams:
    """argon2id cost. Stored with every sealed file, so it can be raised later without breaking old ones."""

    memory_kib: int
    iterations: int
    parallelism: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# Chosen in docs/adr/0007: ~0.15 s and 64 MiB per guess on one core of the reference machine.
PRODUCTION = KdfParams(memory_kib=64 * 1024, iterations=3, parallelism=1)
# The agent and the server refuse weaker parameters (a downgrade would make guessing cheaper) and
# far more expensive ones (a candidate's laptop must open the assignment in seconds).
CEILING = KdfParams(memory_kib=1024 * 1024, iterations=10, parallelism=8)
_params = {"default": PRODUCTION, "floor": PRODUCTION}


def use_params(default: KdfParams, floor: KdfParams) -> None:
    """Tests make the KDF cheap through a fixture; production never calls this."""
    _params["default"], _params["floor"] = default, floor


def default_params() -> KdfParams:
    return _params["default"]


class AssignmentError(Exception):
    """Base for everything that can go wrong opening a sealed assignment; the message says what."""


class NotSealed(AssignmentError):
    """Not a well-formed sealed assignment file."""


class WrongContext(AssignmentError):
    """Sealed for another exam or under another name."""


class WrongPin(AssignmentError):
    """The PIN does not open the assignment."""


class Tampered(AssignmentError):
    """The PIN is right but the file was altered after sealing."""


@dataclass(frozen=True)
class Header:
    exam_id: str
    name: str
    size: int
    chunk: int
    file_salt: bytes
    kdf: KdfParams
    salt: bytes
    check: bytes
    raw: bytes  # the exact prefix bytes, the chunks' associated data

    @property
    def n_chunks(self) -> int:
        return framing.n_chunks(self.size, self.chunk)

    @property
    def expected_length(self) -> int:
        return framing.sealed_length(len(self.raw), self.size, self.chunk)

    def lock(self) -> dict[str, Any]:
        """What every file of one assignment set shares: the KDF, its salt and the PIN check."""
        return {"kdf": self.kdf.as_dict(), "salt": b64e(self.salt), "check": b64e(self.check)}


@dataclass(frozen=True)
class Key:
    """The key derived from the PIN for one exam. Never leaves the machine that derived it."""

    exam_id: str
    kdf: KdfParams
    salt: bytes
    master: bytes

    @property
    def check(self) -> bytes:
        return _hkdf(self.master, None, b"invigil/v1/assignment-check\x00" + self.exam_id.encode(), CHECK_LEN)

    def file_key(self, name: str, file_salt: bytes) -> bytes:
        info = b"invigil/v1/assignment-file\x00" + self.exam_id.encode() + b"\x00" + name.encode()
        return _hkdf(self.master, file_salt, info, 32)


def _hkdf(master: bytes, salt: bytes | None, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(master)


def check_params(kdf: KdfParams) -> KdfParams:
    floor = _params["floor"]
    if kdf.memory_kib < floor.memory_kib or kdf.iterations < floor.iterations or kdf.parallelism < 1:
        raise NotSealed(
            f"its key-derivation parameters ({kdf.memory_kib} KiB, {kdf.iterations} passes) are weaker "
            f"than Invigil allows ({floor.memory_kib} KiB, {floor.iterations} passes)"
        )
    if (
        kdf.memory_kib > CEILING.memory_kib
        or kdf.iterations > CEILING.iterations
        or kdf.parallelism > CEILING.parallelism
        or kdf.memory_kib < 8 * kdf.parallelism
    ):
        raise NotSealed("its key-derivation parameters are out of range")
    return kdf


def derive(pin: str, exam_id: str, salt: bytes, kdf: KdfParams) -> Key:
    """The memory-hard step: one call is one guess (``kdf`` decides its cost)."""
    check_params(kdf)
    master = hash_secret_raw(
        pins.normalize(pin).encode(),
        salt,
        time_cost=kdf.iterations,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=32,
        type=Type.ID,
        version=ARGON2_VERSION,
    )
    return Key(exam_id, kdf, salt, master)


def new_key(pin: str, exam_id: str) -> Key:
    """For sealing: refuses weak PINs, draws a fresh salt, uses the current default parameters."""
    pins.check_strength(pin)
    return derive(pin, exam_id, os.urandom(SALT_LEN), default_params())


def unlock(header: Header, pin: str) -> Key:
    """Derive the key for ``header``'s lock and check it; WrongPin if this PIN is not the one."""
    try:
        key = derive(pin, header.exam_id, header.salt, header.kdf)
    except pins.WeakPin as exc:
        raise WrongPin(f"This is not the exam's PIN: {exc}") from exc
    if not compare_digest(key.check, header.check):
        raise WrongPin(
            "This PIN does not open the assignment. Check the PIN the invigilator announced and try "
            "again (letters or digits, dashes and spaces do not matter)."
        )
    return key


def seal_stream(
    src: BinaryIO, size: int, dst: BinaryIO, key: Key, name: str, chunk: int = DEFAULT_CHUNK
) -> None:
    """Seal ``size`` bytes from ``src`` as the file ``name`` of ``key``'s exam."""
    try:
        check_file_name(name)
    except BadFileName as exc:
        raise ValueError(str(exc)) from exc
    file_salt = os.urandom(SALT_LEN)
    header = {
        "v": VERSION,
        "suite": SUITE_NAME,
        "exam": key.exam_id,
        "name": name,
        "size": size,
        "chunk": chunk,
        "file_salt": b64e(file_salt),
        "kdf": {"alg": "argon2id", "version": ARGON2_VERSION, **key.kdf.as_dict(), "salt": b64e(key.salt)},
        "check": b64e(key.check),
    }
    prefix = framing.write_prefix(dst, MAGIC, header)
    framing.seal_chunks(src, size, dst, key.file_key(name, file_salt), chunk, prefix)


def seal_bytes(data: bytes, key: Key, name: str, chunk: int = DEFAULT_CHUNK) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(data), len(data), out, key, name, chunk)
    return out.getvalue()


def read_header(stream: BinaryIO) -> Header:
    """Parse and check a sealed file's prefix; NotSealed says what is wrong. No PIN needed."""
    raw, doc = framing.read_prefix(
        stream,
        MAGIC,
        MAX_HEADER,
        NotSealed,
        what="sealed assignment file",
        wrong_magic="not a sealed Invigil assignment file (wrong magic bytes): seal it with `invigil`",
        header="the header",
    )
    try:
        kdf_doc = doc["kdf"]
        header = Header(
            exam_id=str(doc["exam"]),
            name=str(doc["name"]),
            size=int(doc["size"]),
            chunk=int(doc["chunk"]),
            file_salt=b64d(doc["file_salt"]),
            kdf=KdfParams(
                memory_kib=int(kdf_doc["memory_kib"]),
                iterations=int(kdf_doc["iterations"]),
                parallelism=int(kdf_doc["parallelism"]),
            ),
            salt=b64d(kdf_doc["salt"]),
            check=b64d(doc["check"]),
            raw=raw,
        )
        version, suite, alg = doc["v"], doc["suite"], (kdf_doc["alg"], kdf_doc["version"])
    except (ValueError, KeyError, TypeError) as exc:
        raise NotSealed(f"the header is malformed ({exc.__class__.__name__})") from exc
    if version != VERSION or suite != SUITE_NAME or alg != ("argon2id", ARGON2_VERSION):
        raise NotSealed(f"unsupported version or algorithms ({version}, {suite}, {alg[0]})")
    framing.check_canonical(doc, raw, NotSealed, "the header")
    if not 1024 <= header.chunk <= 4 * 1024 * 1024 or not 0 <= header.size <= 1 << 40:
        raise NotSealed("chunk size or length is out of range")
    if len(header.salt) != SALT_LEN or len(header.file_salt) != SALT_LEN or len(header.check) != CHECK_LEN:
        raise NotSealed("salt or PIN check has the wrong length")
    try:
        check_file_name(header.name)
    except BadFileName as exc:
        raise NotSealed(str(exc)) from exc
    check_params(header.kdf)
    return header


def open_stream(src: BinaryIO, dst: BinaryIO, key: Key, exam_id: str, name: str) -> Header:
    """Open one sealed file that must be ``name`` of ``exam_id``; every failure says what is wrong."""
    header = read_header(src)
    if header.exam_id != exam_id or key.exam_id != exam_id:
        raise WrongContext(f"'{header.name}' was sealed for another exam; it cannot be opened for this one")
    if header.name != name:
        raise WrongContext(f"the file sealed as '{header.name}' was presented as '{name}'")
    if (header.salt, header.kdf) != (key.salt, key.kdf) or not compare_digest(header.check, key.check):
        raise Tampered(f"'{name}' does not belong to the same sealed assignment as the other files")
    framing.open_chunks(
        src,
        dst,
        key.file_key(header.name, header.file_salt),
        header.size,
        header.chunk,
        header.raw,
        truncated=lambda i: Tampered(f"'{name}' is truncated (chunk {i})"),
        altered=lambda i: Tampered(f"'{name}' was altered after it was sealed (chunk {i} fails)"),
        extra=lambda: Tampered(f"'{name}' has bytes after its last chunk"),
    )
    return header


def open_bytes(data: bytes, key: Key, exam_id: str, name: str) -> bytes:
    out = io.BytesIO()
    open_stream(io.BytesIO(data), out, key, exam_id, name)
    return out.getvalue()


def split(data: bytes) -> list[tuple[Header, bytes]]:
    """A concatenation of sealed files (the upload body) -> each header with its exact bytes."""
    out, offset = [], 0
    while offset < len(data):
        header = read_header(io.BytesIO(data[offset : offset + PREFIX_MAX]))
        end = offset + header.expected_length
        if end > len(data):
            raise NotSealed(f"'{header.name}' is truncated: the upload ends before its last chunk")
        out.append((header, data[offset:end]))
        offset = end
    return out
