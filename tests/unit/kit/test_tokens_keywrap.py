"""Activation codes, token hashes, passphrase key wrapping and recovery key files."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit import envelope, keywrap, signing, tokens


def test_activation_codes_are_long_typable_and_unique():
    codes = {tokens.new_activation_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        assert len(code) == 19
        assert code.count("-") == 3
        assert tokens.normalize_activation_code(code) == code
        assert not set(code.replace("-", "")) & set("ILOU")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abcd-efgh-jkmn-pqrs", "ABCD-EFGH-JKMN-PQRS"),
        ("ABCD EFGH JKMN PQRS", "ABCD-EFGH-JKMN-PQRS"),
        ("abcdefghjkmnpqrs", "ABCD-EFGH-JKMN-PQRS"),
        ("0OO0-1IL1-ABCD-EFGH", "0000-1111-ABCD-EFGH"),
    ],
)
def test_codes_forgive_typing(typed, expected):
    assert tokens.normalize_activation_code(typed) == expected


@pytest.mark.parametrize("bad", ["", "ABCD", "ABCD-EFGH-JKMN-PQR!", "A" * 17, "x" * 1000, "../../etc/passwd"])
def test_impossible_codes_are_none(bad):
    assert tokens.normalize_activation_code(bad) is None


def test_wrap_unwrap_and_wrong_passphrase():
    wrapped = keywrap.wrap_secret(b"k" * 32, "a good passphrase", iterations=1000, aad=b"kid")
    assert keywrap.unwrap_secret(wrapped, "a good passphrase", aad=b"kid") == b"k" * 32
    with pytest.raises(keywrap.WrongPassphrase):
        keywrap.unwrap_secret(wrapped, "a bad passphrase!", aad=b"kid")
    with pytest.raises(keywrap.WrongPassphrase):  # wrapped key moved to another key id
        keywrap.unwrap_secret(wrapped, "a good passphrase", aad=b"other")


def test_recovery_key_file(tmp_path):
    document, public_key = keywrap.new_recovery_key("long enough passphrase", "uni", iterations=1000)
    path = tmp_path / "recovery.json"
    keywrap.write_key_file(path, document)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(FileExistsError):
        keywrap.write_key_file(path, document)
    key = keywrap.load_recovery_key(path, "long enough passphrase")
    assert envelope.raw_public(key.public_key()) == envelope.raw_public(public_key)
    raw_private = keywrap.private_raw(key)
    assert raw_private not in path.read_bytes()
    assert envelope.b64e(raw_private) not in path.read_text()
    with pytest.raises(keywrap.WrongPassphrase):
        keywrap.load_recovery_key(path, "wrong passphrase here")


def test_recovery_key_refuses_short_passphrase_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="at least"):
        keywrap.new_recovery_key("short", "uni", iterations=1000)
    (tmp_path / "x.json").write_text("not json")
    with pytest.raises(keywrap.KeyFileError):
        keywrap.load_recovery_key(tmp_path / "x.json", "whatever passphrase")
    (tmp_path / "y.json").write_text(json.dumps({"type": "something-else"}))
    with pytest.raises(keywrap.KeyFileError):
        keywrap.load_recovery_key(tmp_path / "y.json", "whatever passphrase")
    with pytest.raises(keywrap.KeyFileError):
        keywrap.load_recovery_key(tmp_path / "missing.json", "whatever passphrase")


def test_receipt_signatures(tmp_path):
    key = signing.load_or_create(tmp_path / "k.pem")
    assert signing.load_or_create(tmp_path / "k.pem").private_bytes_raw() == key.private_bytes_raw()
    body = {"a": 1, "files": [{"sha256": "00"}]}
    sig = signing.sign(key, body)
    assert signing.verify(signing.public_b64(key), body, sig)
    assert not signing.verify(signing.public_b64(key), {**body, "a": 2}, sig)
    other = x25519.X25519PrivateKey.generate()
    assert other  # keys of another type never verify
