"""The candidate's receipt secret: their X25519 private key, written so a person can copy it from paper.

Format: the 32 raw private-key bytes followed by a 4-bit check (the high nibble of the first byte of
SHA-256 of those 32 bytes), 260 bits in Crockford base32 = 52 symbols, printed in 13 groups of 4
joined by dashes. Reading ignores case, spaces and dashes and maps the look-alike letters O→0, I/L→1,
U→V, exactly as activation codes do. The check catches most typos before any cryptography runs; the
portal then compares the key id of the derived public key with the one the server recorded, which
tells "this secret belongs to another receipt" apart from "typo". The browser module
(``web/static/invigil-crypto.js``) reads the same format.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit.keywrap import private_raw
from invigil.kit.tokens import _CONFUSABLE, CODE_ALPHABET

SYMBOLS = 52
GROUP = 4


class BadSecret(ValueError):
    """The text cannot be a receipt secret; the message says why in words a student understands."""


def _check(raw: bytes) -> int:
    return hashlib.sha256(raw).digest()[0] >> 4


def secret_from_private(private_key: x25519.X25519PrivateKey) -> str:
    raw = private_raw(private_key)
    number = (int.from_bytes(raw, "big") << 4) | _check(raw)
    symbols = "".join(CODE_ALPHABET[(number >> (5 * (SYMBOLS - 1 - i))) & 31] for i in range(SYMBOLS))
    return "-".join(symbols[i : i + GROUP] for i in range(0, SYMBOLS, GROUP))


def private_from_secret(text: str) -> x25519.X25519PrivateKey:
    if not isinstance(text, str) or len(text) > 200:
        raise BadSecret("That is not a receipt secret.")
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n").translate(_CONFUSABLE)
    if len(cleaned) != SYMBOLS:
        raise BadSecret(f"A receipt secret has {SYMBOLS} letters and digits; this one has {len(cleaned)}.")
    bad = sorted({ch for ch in cleaned if ch not in CODE_ALPHABET})
    if bad:
        raise BadSecret(f"A receipt secret never contains {', '.join(repr(ch) for ch in bad)}.")
    number = 0
    for ch in cleaned:
        number = (number << 5) | CODE_ALPHABET.index(ch)
    raw = (number >> 4).to_bytes(32, "big")
    if number & 0xF != _check(raw):
        raise BadSecret("The receipt secret has a typo: please compare it with your receipt again.")
    return x25519.X25519PrivateKey.from_private_bytes(raw)
