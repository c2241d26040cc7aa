"""Login throttling: failures per account and per client network, then a lockout.

The account key is a hash of institution and email, so an address that has no account is counted and
locked exactly like one that has: the answer never tells whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from invigil.accounts.models import LoginThrottle
from invigil.config import Settings
from invigil.kit.db import insert_ignore
from invigil.kit.errors import TooManyRequests


@dataclass(frozen=True)
class Limits:
    account_failures: int
    client_failures: int
    window_seconds: int
    lockout_seconds: int

    @classmethod
    def from_settings(cls, s: Settings) -> Limits:
        return cls(
            s.login_max_failures, s.login_client_max_failures, s.login_window_seconds, s.login_lockout_seconds
        )


def account_key(institution: str, email: str) -> str:
    return hashlib.sha256(f"account\0{institution}\0{email.strip().lower()}".encode()).hexdigest()


def client_key(bucket: str) -> str:
    return hashlib.sha256(f"client\0{bucket}".encode()).hexdigest()


def check(db: Session, keys: list[str], now: datetime) -> None:
    """Refuse while any of ``keys`` is locked, with the time left in words."""
    for key in keys:
        row = db.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            seconds = math.ceil((row.locked_until - now).total_seconds())
            minutes = max(1, math.ceil(seconds / 60))
            raise TooManyRequests(
                f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}, "
                "or ask your administrator if you cannot log in.",
                retry_after=seconds,
            )


def record_failure(db: Session, key: str, limit: int, limits: Limits, now: datetime) -> None:
    db.execute(
        insert_ignore(db, LoginThrottle.__table__, ["key"]).values(key=key, failures=0, window_start=now)
    )
    row = db.get(LoginThrottle, key, with_for_update=True)
    assert row is not None
    if now - row.window_start >= timedelta(seconds=limits.window_seconds):
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + timedelta(seconds=limits.lockout_seconds)
        row.failures, row.window_start = 0, now


def fail(db: Session, account: str, client: str, limits: Limits, now: datetime) -> None:
    record_failure(db, account, limits.account_failures, limits, now)
    record_failure(db, client, limits.client_failures, limits, now)


def clear(db: Session, key: str) -> None:
    row = db.get(LoginThrottle, key)
    if row is not None:
        db.delete(row)


def sweep(db: Session, now: datetime, window_seconds: int) -> int:
    """Forget counts whose window and lockout are over: nothing is kept longer than it matters."""
    stale = (LoginThrottle.window_start <= now - timedelta(seconds=window_seconds)) & (
        LoginThrottle.locked_until.is_(None) | (LoginThrottle.locked_until <= now)
    )
    result = db.execute(delete(LoginThrottle).where(stale))
    return int(getattr(result, "rowcount", 0) or 0)
