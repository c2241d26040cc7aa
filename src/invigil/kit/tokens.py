"""Random secrets, their stored hashes, and activation codes people can type."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford base32: no I, L, O or U, so codes survive being read aloud or copied from paper.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP_LEN = 4, 4  # 16 symbols = 80 bits: guessing is hopeless even unthrottled
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is the right stored form (no KDF needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_activation_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    return "-".join(symbols[i : i + CODE_GROUP_LEN] for i in range(0, len(symbols), CODE_GROUP_LEN))


def normalize_activation_code(code: str) -> str | None:
    """Upper-case, drop spaces and dashes, fix look-alike letters; None if it cannot be a code."""
    if not isinstance(code, str) or len(code) > 64:
        return None
    raw = "".join(ch for ch in code.upper() if ch not in " -\t").translate(_CONFUSABLE)
    if len(raw) != CODE_GROUPS * CODE_GROUP_LEN or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + CODE_GROUP_LEN] for i in range(0, len(raw), CODE_GROUP_LEN))
