"""PIN-sealed assignment files: round trips, wrong PINs, and every way of altering or moving a file."""

from __future__ import annotations

import io
import json
import os
import struct

import pytest

from invigil.kit import pin as pins
from invigil.kit import pinseal
from invigil.kit.envelope import b64e, canonical_json
from invigil.kit.filenames import BadFileName, check_file_name, same_file_key

PIN = "K7QM-3XPD"
EXAM, OTHER = "exam-a" * 4, "exam-b" * 4


def _seal(data: bytes, name: str = "opgave.pdf", exam: str = EXAM, pin: str = PIN, chunk: int = 1024):
    key = pinseal.new_key(pin, exam)
    return key, pinseal.seal_bytes(data, key, name, chunk=chunk)


def _header_doc(sealed: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack(">I", sealed[8:12])
    return json.loads(sealed[12 : 12 + length]), sealed[12 + length :]


def _with_header(doc: dict, rest: bytes) -> bytes:
    body = canonical_json(doc)
    return pinseal.MAGIC + struct.pack(">I", len(body)) + body + rest


def _open(sealed: bytes, pin: str = PIN, exam: str = EXAM, name: str = "opgave.pdf") -> bytes:
    header = pinseal.read_header(io.BytesIO(sealed))
    return pinseal.open_bytes(sealed, pinseal.unlock(header, pin), exam, name)


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 5000])
def test_round_trip_in_chunks(size):
    data = os.urandom(size)
    _key, sealed = _seal(data)
    assert _open(sealed) == data
    header = pinseal.read_header(io.BytesIO(sealed))
    assert header.expected_length == len(sealed)
    if size >= 16:
        assert data[:16] not in sealed


def test_pin_is_read_like_an_activation_code():
    _key, sealed = _seal(b"text")
    assert _open(sealed, pin="k7qm 3xpd") == b"text"
    assert _open(sealed, pin="K7QM3XPD") == b"text"


@pytest.mark.parametrize("wrong", ["K7QM-3XPE", "", "hej!", "K7QM-3XPD-0"])
def test_wrong_pin_says_so(wrong):
    _key, sealed = _seal(b"text")
    with pytest.raises(pinseal.WrongPin, match="PIN"):
        _open(sealed, pin=wrong)


def test_altered_ciphertext_is_reported_as_altered_not_as_a_wrong_pin():
    _key, sealed = _seal(b"x" * 3000)
    flipped = bytearray(sealed)
    flipped[-20] ^= 1
    with pytest.raises(pinseal.Tampered, match="altered after it was sealed"):
        _open(bytes(flipped))
    with pytest.raises(pinseal.Tampered, match="truncated"):
        _open(sealed[:-1])
    with pytest.raises(pinseal.Tampered, match="after its last chunk"):
        _open(sealed + b"\0")


def test_altered_salt_or_parameters_do_not_open():
    key, sealed = _seal(b"secret answer key")
    doc, rest = _header_doc(sealed)
    salted = _with_header({**doc, "kdf": {**doc["kdf"], "salt": b64e(os.urandom(16))}}, rest)
    with pytest.raises(pinseal.Tampered, match="same sealed assignment"):
        pinseal.open_bytes(salted, key, EXAM, "opgave.pdf")  # the key the other files opened with
    with pytest.raises(pinseal.WrongPin):
        _open(salted)  # alone, a changed salt derives another key: the PIN check fails
    more = _with_header({**doc, "kdf": {**doc["kdf"], "iterations": doc["kdf"]["iterations"] + 1}}, rest)
    with pytest.raises(pinseal.Tampered):
        pinseal.open_bytes(more, key, EXAM, "opgave.pdf")
    weaker = _with_header({**doc, "kdf": {**doc["kdf"], "memory_kib": 8}}, rest)
    with pytest.raises(pinseal.NotSealed, match="weaker than Invigil allows"):
        _open(weaker)
    huge = _with_header({**doc, "kdf": {**doc["kdf"], "memory_kib": 1 << 30}}, rest)
    with pytest.raises(pinseal.NotSealed, match="out of range"):
        _open(huge)


def test_production_parameters_are_enforced_outside_tests():
    assert pinseal.KdfParams(memory_kib=65536, iterations=3, parallelism=1) == pinseal.PRODUCTION
    cheap = pinseal.default_params()
    pinseal.use_params(pinseal.PRODUCTION, pinseal.PRODUCTION)
    try:
        assert pinseal.check_params(pinseal.PRODUCTION) == pinseal.PRODUCTION
        for weak in (
            pinseal.KdfParams(memory_kib=32768, iterations=3, parallelism=1),
            pinseal.KdfParams(memory_kib=65536, iterations=2, parallelism=1),
        ):
            with pytest.raises(pinseal.NotSealed, match="weaker"):
                pinseal.check_params(weak)
    finally:
        pinseal.use_params(cheap, cheap)


def test_a_file_cannot_move_to_another_exam_or_name():
    key_a, sealed_a = _seal(b"exam A's assignment", exam=EXAM)
    key_b, _ = _seal(b"exam B's assignment", exam=OTHER)
    with pytest.raises(pinseal.WrongContext, match="another exam"):
        pinseal.open_bytes(sealed_a, key_b, OTHER, "opgave.pdf")
    with pytest.raises(pinseal.WrongContext, match="presented as"):
        pinseal.open_bytes(sealed_a, key_a, EXAM, "other.pdf")
    doc, rest = _header_doc(sealed_a)
    moved = _with_header({**doc, "exam": OTHER}, rest)  # the header rewritten for exam B
    with pytest.raises(pinseal.WrongPin):
        _open(moved, exam=OTHER)  # the PIN check binds the exam
    renamed = _with_header({**doc, "name": "other.pdf"}, rest)
    with pytest.raises(pinseal.Tampered, match="altered"):
        _open(renamed, name="other.pdf")  # the name is in every chunk's associated data


@pytest.mark.parametrize(
    "bad",
    [b"", b"%PDF-1.7 plain", b"INVGASG1\x00\x00\x00\x05{....", b"INVGASG1\xff\xff\xff\xff"],
)
def test_not_sealed(bad):
    with pytest.raises(pinseal.NotSealed):
        pinseal.read_header(io.BytesIO(bad))


def test_split_finds_each_file_and_refuses_a_truncated_one():
    key = pinseal.new_key(PIN, EXAM)
    a = pinseal.seal_bytes(b"a" * 3000, key, "a.txt", chunk=1024)
    b = pinseal.seal_bytes(b"b", key, "b.txt")
    parts = pinseal.split(a + b)
    assert [(h.name, data) for h, data in parts] == [("a.txt", a), ("b.txt", b)]
    with pytest.raises(pinseal.NotSealed, match="truncated"):
        pinseal.split(a + b[:-1])


# -- PINs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak",
    ["1234", "123456", "2026", "12345678901", "K7QM3XP", "AAAAAAAA", "ABCDEFGH", "ABCDABCD", "123456789012"],
)
def test_weak_pins_are_refused_with_advice(weak):
    with pytest.raises(pins.WeakPin, match="generate"):
        pins.check_strength(weak)
    with pytest.raises(pins.WeakPin):
        pinseal.new_key(weak, EXAM)


@pytest.mark.parametrize("bad", ["K7QM-3XP!", "pïn-code-æøå", "x" * 65])
def test_untypeable_pins_are_refused(bad):
    with pytest.raises(pins.WeakPin):
        pins.check_strength(bad)


@pytest.mark.parametrize("good", ["K7QM-3XPD", "k7qm3xpd", "482910573816", "horse-battery-9"])
def test_strong_pins(good):
    assert pins.check_strength(good) == pins.normalize(good)


def test_generated_pins_are_strong_and_differ():
    made = {pins.generate() for _ in range(50)}
    assert len(made) == 50
    for pin in made:
        assert len(pin) == 9
        assert pin[4] == "-"
        assert pins.bits(pins.check_strength(pin)) == 40


# -- file names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["", ".", "..", "../x.pdf", "..\\x.pdf", "/etc/passwd", "a/b.pdf", "C:x.pdf", ".hidden", "x.pdf ",
     "x.", "CON", "con.txt", "LPT1.pdf", "a\x00b", "a\nb", "a\u202eb", "x" * 121, "e\u0301.pdf"],
)  # fmt: skip
def test_unsafe_file_names(bad):
    with pytest.raises(BadFileName):
        check_file_name(bad)


@pytest.mark.parametrize("good", ["Opgave 1.pdf", "data (v2).csv", "løsning_æøå.docx", "README", "é.txt"])
def test_safe_file_names(good):
    assert check_file_name(good) == good


def test_names_differing_in_case_are_the_same_file():
    assert same_file_key("Opgave.PDF") == same_file_key("opgave.pdf")


def test_sealing_refuses_an_unsafe_name():
    with pytest.raises(ValueError, match="folder"):
        _seal(b"x", name="../../x.pdf")
