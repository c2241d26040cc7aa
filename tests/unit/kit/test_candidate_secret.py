from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit.candidate_secret import BadSecret, private_from_secret, secret_from_private
from invigil.kit.keywrap import private_raw


def test_secret_roundtrips_and_forgives_typing():
    key = x25519.X25519PrivateKey.generate()
    secret = secret_from_private(key)
    assert len(secret) == 52 + 12  # 13 groups of 4, dashes between
    sloppy = secret.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert private_raw(private_from_secret(sloppy)) == private_raw(key)


def test_typos_are_caught_before_any_cryptography():
    key = x25519.X25519PrivateKey.generate()
    secret = secret_from_private(key).replace("-", "")
    messages = []
    for i in range(len(secret)):
        for replacement in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
            if replacement == secret[i]:
                continue
            typo = secret[:i] + replacement + secret[i + 1 :]
            try:
                private_from_secret(typo)
            except BadSecret as exc:
                messages.append(str(exc))
    assert len(messages) / (len(secret) * 31) > 0.9  # a 4-bit check catches 15 in 16
    assert all("typo" in m for m in messages)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "has 52 letters"), ("ABCD-EFGH", "has 52 letters"), ("!" * 52, "never contains"), (None, "not a")],
)
def test_impossible_secrets_say_why(text, message):
    with pytest.raises(BadSecret, match=message):
        private_from_secret(text)  # type: ignore[arg-type]
