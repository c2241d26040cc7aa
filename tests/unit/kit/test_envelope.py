"""Sealed envelopes: roundtrip, context binding, tampering, structure checks."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit import envelope
from invigil.kit.envelope import Context

CTX = Context("exam-1", "session-1", "item-0001", "screenshot")


@pytest.fixture
def keys() -> tuple[x25519.X25519PrivateKey, x25519.X25519PrivateKey]:
    return x25519.X25519PrivateKey.generate(), x25519.X25519PrivateKey.generate()


@pytest.mark.parametrize("size", [0, 1, 1023, envelope.DEFAULT_CHUNK, envelope.DEFAULT_CHUNK + 1, 300_000])
def test_roundtrip_any_size_any_recipient(keys, size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    sealed = envelope.seal_bytes(data, CTX, [k.public_key() for k in keys])
    for key in keys:
        assert envelope.open_bytes(sealed, key, expected=CTX) == data
    header = envelope.read_header(io.BytesIO(sealed))
    assert header.expected_length == len(sealed)
    assert header.size == size


def test_ciphertext_reveals_nothing_and_differs_each_time(keys):
    data = b"MARKER-secret-answer-" * 100
    a = envelope.seal_bytes(data, CTX, [keys[0].public_key()])
    b = envelope.seal_bytes(data, CTX, [keys[0].public_key()])
    assert b"MARKER" not in a
    assert a != b


def test_stranger_cannot_open(keys):
    sealed = envelope.seal_bytes(b"secret", CTX, [keys[0].public_key()])
    with pytest.raises(envelope.NotARecipient):
        envelope.open_bytes(sealed, keys[1])


@pytest.mark.parametrize(
    "other",
    [
        Context("exam-2", "session-1", "item-0001", "screenshot"),
        Context("exam-1", "session-2", "item-0001", "screenshot"),
        Context("exam-1", "session-1", "item-0002", "screenshot"),
        Context("exam-1", "session-1", "item-0001", "webcam_frame"),
    ],
)
def test_moved_to_another_context_fails(keys, other):
    sealed = envelope.seal_bytes(b"secret", CTX, [keys[0].public_key()])
    with pytest.raises(envelope.WrongContext):
        envelope.open_bytes(sealed, keys[0], expected=other)


def test_rewritten_header_context_fails_authentication(keys):
    """An attacker rewrites the context inside the header: the data key no longer opens."""
    sealed = envelope.seal_bytes(b"secret", CTX, [keys[0].public_key()])
    forged = sealed.replace(b'"session-1"', b'"session-9"')
    assert forged != sealed
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_bytes(forged, keys[0])


def test_every_flipped_bit_is_detected(keys):
    sealed = envelope.seal_bytes(b"x" * 5000, CTX, [keys[0].public_key()], chunk=1024)
    step = max(1, len(sealed) // 97)
    for pos in range(0, len(sealed), step):
        for bit in (0, 7):
            tampered = bytearray(sealed)
            tampered[pos] ^= 1 << bit
            with pytest.raises(envelope.EnvelopeError):
                envelope.open_bytes(bytes(tampered), keys[0])


def test_truncated_reordered_and_extended_are_detected(keys):
    sealed = envelope.seal_bytes(b"y" * 4096, CTX, [keys[0].public_key()], chunk=1024)
    header = envelope.read_header(io.BytesIO(sealed))
    body = sealed[len(header.raw) :]
    chunk = 1024 + envelope.TAG_LEN
    swapped = header.raw + body[chunk : 2 * chunk] + body[:chunk] + body[2 * chunk :]
    for bad in (sealed[:-1], sealed[: len(header.raw) + chunk], sealed + b"\0", swapped):
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_bytes(bad, keys[0])


@pytest.mark.parametrize(
    "payload", [b"", b"INVGENV1", b"\x89PNG\r\n\x1a\n" + b"0" * 100, b"INVGENV1\x00\x00\x00\x05{}{}{", b"{}"]
)
def test_non_envelopes_are_refused(payload):
    with pytest.raises(envelope.NotAnEnvelope):
        envelope.read_header(io.BytesIO(payload))


def test_server_side_check(keys):
    kid = envelope.key_id(keys[0].public_key())
    sealed = envelope.seal_bytes(b"z" * 100, CTX, [keys[0].public_key()])
    header = envelope.read_header(io.BytesIO(sealed))
    envelope.check_envelope(header.raw, len(sealed), CTX, kid)
    with pytest.raises(envelope.NotARecipient):
        envelope.check_envelope(header.raw, len(sealed), CTX, envelope.key_id(keys[1].public_key()))
    with pytest.raises(envelope.NotAnEnvelope):
        envelope.check_envelope(header.raw, len(sealed) + 1, CTX, kid)
    with pytest.raises(envelope.WrongContext):
        envelope.check_envelope(header.raw, len(sealed), Context("e", "s", "i", "screenshot"), kid)
