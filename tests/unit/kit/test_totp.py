"""TOTP against the test vectors of RFC 6238 (appendix B) and RFC 4226 (appendix D)."""

from __future__ import annotations

import base64

import pytest

from invigil.kit import totp

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# (time, SHA1, SHA256, SHA512), 8 digits, 30-second steps.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(at, sha1, sha256, sha512):
    step = totp.step_at(at)
    for digest, expected in (("sha1", sha1), ("sha256", sha256), ("sha512", sha512)):
        assert totp.hotp(SEEDS[digest], step, digits=8, digest=digest) == expected


def test_rfc4226_vectors_and_six_digits():
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871"]
    assert [totp.hotp(SEEDS["sha1"], i) for i in range(9)] == expected


def test_base32_secret_round_trip_and_code_at():
    secret = base64.b32encode(SEEDS["sha1"]).decode()
    assert totp.code_at(secret, 59) == "287082"  # the last 6 digits of 94287082
    assert totp.code_at(secret.lower().rstrip("="), 59) == "287082"
    fresh = totp.new_secret()
    assert len(totp.secret_bytes(fresh)) == totp.SECRET_BYTES
    assert "=" not in fresh


def test_matching_step_finds_the_step_and_ignores_junk():
    secret = base64.b32encode(SEEDS["sha1"]).decode()
    step = totp.step_at(59)
    assert totp.matching_step(secret, "287 082", range(step - 1, step + 2)) == step
    assert totp.matching_step(secret, "287082", range(step + 1, step + 3)) is None
    for junk in ("", "28708", "2870822", "abcdef", "２８７０８２"):
        assert totp.matching_step(secret, junk, range(step - 1, step + 2)) is None


def test_provisioning_uri():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "ana@uni.example", "Invigil (Uni)")
    assert uri.startswith("otpauth://totp/Invigil%20%28Uni%29%3Aana%40uni.example?secret=JBSWY3DPEHPK3PXP")
    assert "period=30" in uri
    assert "digits=6" in uri
