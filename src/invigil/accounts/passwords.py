"""argon2id password hashing with rehash-on-verify."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 12


def use_hasher(hasher: PasswordHasher) -> None:
    """Tests swap in a cheap hasher through a fixture; production never calls this."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored: str, password: str) -> tuple[bool, str | None]:
    """(matches, new hash if the stored one should be upgraded)."""
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (_hasher.hash(password) if _hasher.check_needs_rehash(stored) else None)


# A fixed hash to verify against when the account does not exist, so that timing does not tell.
_DUMMY: str | None = None


def burn_time(password: str) -> None:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher.hash("invigil-dummy-password")
    verify(_DUMMY, password)
