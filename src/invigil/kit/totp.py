"""TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA1, 6 digits, 30-second steps, base32 secrets.

Pure functions of the secret and the time step; which steps are still acceptable for an account
(replay, clock skew) is the accounts domain's rule (accounts/twofactor.py).
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA1


def new_secret() -> str:
    """A fresh secret in base32 without padding (what authenticator apps expect)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def step_at(when: datetime | float) -> int:
    seconds = when.timestamp() if isinstance(when, datetime) else when
    return int(seconds // STEP_SECONDS)


def code_at(secret: str, when: datetime | float) -> str:
    return hotp(secret_bytes(secret), step_at(when))


def matching_step(secret: str, code: str, steps: range) -> int | None:
    """The step in ``steps`` whose code is ``code`` (compared in constant time), or None."""
    typed = normalize(code)
    if typed is None:
        return None
    key = secret_bytes(secret)
    found = None
    for step in steps:
        if hmac.compare_digest(hotp(key, step), typed) and found is None:
            found = step
    return found


def normalize(code: str) -> str | None:
    cleaned = "".join(ch for ch in code if ch not in " -")
    return cleaned if len(cleaned) == DIGITS and cleaned.isascii() and cleaned.isdigit() else None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
