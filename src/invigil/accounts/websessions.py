"""Browser sessions: a row per login, found by the hash of the random id in the cookie.

A session moves through stages: ``enrol`` (password right, two-factor login not set up yet) or
``second_factor`` (password right, code pending), then ``full``. Moving on issues a new id (no
session fixation). A session ends at logout, after ``idle_seconds`` without a request, or
``max_seconds`` after login, whichever comes first; a session that has not reached ``full`` lives
``PENDING_SECONDS`` at most.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff, WebSession
from invigil.audit import service as audit
from invigil.config import Settings
from invigil.kit import tokens
from invigil.kit.errors import Forbidden, Unauthorized

ENROL, SECOND_FACTOR, FULL = "enrol", "second_factor", "full"
COOKIE = "invigil_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PENDING_SECONDS = 10 * 60
TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often: fewer writes


@dataclass(frozen=True)
class Lifetimes:
    idle_seconds: int
    max_seconds: int

    @classmethod
    def from_settings(cls, s: Settings) -> Lifetimes:
        return cls(s.web_session_idle_seconds, s.web_session_max_seconds)


def start(
    db: Session, staff_id: str, stage: str, now: datetime, life: Lifetimes, pending_secret: str | None = None
) -> tuple[str, WebSession]:
    """A new session; returns the cookie value (only its hash is stored) and the row."""
    raw = tokens.new_token()
    seconds = life.max_seconds if stage == FULL else min(PENDING_SECONDS, life.max_seconds)
    row = WebSession(
        id_hash=tokens.token_hash(raw),
        staff_id=staff_id,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        pending_totp_secret=pending_secret,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=seconds),
    )
    db.add(row)
    db.flush()
    return raw, row


def _unexpired(row: WebSession, now: datetime, life: Lifetimes) -> bool:
    return row.expires_at > now and row.last_seen_at + timedelta(seconds=life.idle_seconds) > now


def resolve(db: Session, raw: str | None, now: datetime, life: Lifetimes) -> WebSession | None:
    """The live session behind a cookie value, or None; an expired one is deleted on sight."""
    if not raw or len(raw) > 128:
        return None
    row = db.get(WebSession, tokens.token_hash(raw))
    if row is None:
        return None
    if not _unexpired(row, now, life):
        db.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def alive(db: Session, raw: str | None, now: datetime, life: Lifetimes) -> bool:
    """Is this completed login still valid? Asking does not count as activity (unlike ``resolve``), so
    a page left open with a live stream cannot keep its session from idling out."""
    row = db.get(WebSession, tokens.token_hash(raw)) if raw and len(raw) <= 128 else None
    return row is not None and row.stage == FULL and _unexpired(row, now, life)


def staff_for_api(
    db: Session, raw: str | None, method: str, csrf: str | None, now: datetime, life: Lifetimes
) -> Staff:
    """The staff member behind a browser's cookie, for the JSON API the pages call (ADR 0015).

    Only a completed login counts; a state-changing request must also carry the session's CSRF
    token in the ``X-CSRF-Token`` header (a cookie alone is what a forged cross-site request has).
    """
    row = resolve(db, raw, now, life)
    if row is None or row.stage != FULL:
        raise Unauthorized("Your login has expired or is not valid; log in again.")
    if method.upper() not in SAFE_METHODS and not (csrf and tokens.same(csrf, row.csrf_token)):
        raise Forbidden("This request did not come from an Invigil page (CSRF token missing or wrong).")
    staff = db.get(Staff, row.staff_id)
    if staff is None or not staff.is_active:
        raise Unauthorized("This account is disabled.")
    return staff


def advance(
    db: Session, row: WebSession, stage: str, now: datetime, life: Lifetimes
) -> tuple[str, WebSession]:
    """The next stage under a new id; the old id stops working."""
    staff_id = row.staff_id
    db.delete(row)
    return start(db, staff_id, stage, now, life)


def end(db: Session, raw: str | None, now: datetime | None = None) -> None:
    """Log out: the session row goes, and a completed login's end is in the access log."""
    if raw and len(raw) <= 128:
        row = db.get(WebSession, tokens.token_hash(raw))
        if row is not None and now is not None and row.stage == FULL:
            audit.record(db, actor_kind="staff", actor_id=row.staff_id, action="logout", at=now)
        db.execute(delete(WebSession).where(WebSession.id_hash == tokens.token_hash(raw)))


def end_all(db: Session, staff_id: str) -> None:
    db.execute(delete(WebSession).where(WebSession.staff_id == staff_id))


def sweep(db: Session, now: datetime) -> int:
    """Delete sessions past their absolute lifetime (idle ones go when next seen, or here later)."""
    result = db.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
