"""Rate limit on wrong activation codes, per client bucket, kept in the database so that every API
node sees the same counts. Codes carry 80 bits, so this is defence in depth and a signal to staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from invigil.kit.errors import TooManyRequests
from invigil.sessions.models import ActivationFailure

_failures = cast(Table, ActivationFailure.__table__)
# One indexed read on every activation attempt, built once (fastactivate.py runs it by the thousand).
_COUNT = select(_failures.c.window_start, _failures.c.failures).where(
    _failures.c.bucket == bindparam("b_bucket")
)


def check(db: Session, bucket: str, now: datetime, max_failures: int, window_seconds: int) -> None:
    row = db.connection().execute(_COUNT, {"b_bucket": bucket}).first()
    if row is None or now - row.window_start >= timedelta(seconds=window_seconds):
        return
    if row.failures >= max_failures:
        retry = int((row.window_start + timedelta(seconds=window_seconds) - now).total_seconds()) + 1
        raise TooManyRequests(
            f"Too many wrong activation codes from this network. Wait {retry // 60 + 1} minutes, "
            "check the code on your exam letter, or ask the invigilator.",
            retry_after=retry,
        )


def record_failure(db: Session, bucket: str, now: datetime, window_seconds: int) -> None:
    row = db.get(ActivationFailure, bucket, with_for_update=True)
    if row is None:
        db.add(ActivationFailure(bucket=bucket, window_start=now, failures=1))
    elif now - row.window_start >= timedelta(seconds=window_seconds):
        row.window_start, row.failures = now, 1
    else:
        row.failures += 1
