"""Two-factor login: TOTP enrolment, codes checked once each, one-time recovery codes.

Rules (ADR 0012):
- every staff role logs in with a second factor (``needs_two_factor``);
- a code is accepted for the current 30-second step or one step either side (clock skew), and only
  for a step later than the last one accepted for that account: a code cannot be used twice;
- ten recovery codes are made at enrolment, shown once, stored as hashes, each usable once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.accounts.models import RecoveryCode, Role, Staff
from invigil.audit import service as audit
from invigil.kit import tokens, totp
from invigil.kit.errors import Invalid

SKEW_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "Invigil"


def needs_two_factor(role: str) -> bool:
    """Every role. Even the examiner, who sees no proctoring data, grades hand-ins (personal data),
    and one rule for all leaves no password-only door for an attacker to look for."""
    Role(role)  # an unknown role is an error, never a way around the rule
    return True


def is_enrolled(staff: Staff) -> bool:
    return staff.totp_secret is not None


def provisioning_uri_for(email: str, secret: str, institution: str) -> str:
    return totp.provisioning_uri(secret, email, f"{ISSUER} ({institution})")


def _accept_totp(staff: Staff, secret: str, code: str, now: datetime) -> bool:
    current = totp.step_at(now)
    earliest = current - SKEW_STEPS
    if staff.totp_last_step is not None:
        earliest = max(earliest, staff.totp_last_step + 1)
    step = totp.matching_step(secret, code, range(earliest, current + SKEW_STEPS + 1))
    if step is None:
        return False
    staff.totp_last_step = step
    return True


def enrol(db: Session, staff: Staff, secret: str, code: str, now: datetime) -> list[str]:
    """Confirm a new secret with a code from the app; returns the recovery codes, to show once."""
    if is_enrolled(staff):
        raise Invalid("Two-factor login is already set up for this account.")
    staff.totp_last_step = None
    if not _accept_totp(staff, secret, code, now):
        raise Invalid("That code does not match. Check the clock of your phone and type the newest code.")
    staff.totp_secret = secret
    staff.totp_enrolled_at = now
    audit.record(db, actor_kind="staff", actor_id=staff.id, action="twofactor.enrol", at=now)
    return new_recovery_codes(db, staff, now)


def enrol_on_behalf(
    db: Session, staff: Staff, now: datetime, secret: str | None = None
) -> tuple[str, list[str]]:
    """Set up two-factor login for a scripted account (the demo's staff, the load test's coordinator,
    test accounts): a secret confirmed with the code of the step *before* ``now`` (within the skew),
    so that a login in the current step is not taken for a replay. -> (secret, recovery codes)."""
    secret = secret or totp.new_secret()
    previous = now - timedelta(seconds=totp.STEP_SECONDS)
    return secret, enrol(db, staff, secret, totp.code_at(secret, previous), now)


def new_recovery_codes(db: Session, staff: Staff, now: datetime) -> list[str]:
    """Ten fresh codes (80 bits each); the old ones stop working."""
    for old in db.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == staff.id)):
        db.delete(old)
    codes = [tokens.new_activation_code() for _ in range(RECOVERY_CODES)]
    db.add_all(RecoveryCode(code_hash=_code_hash(c), staff_id=staff.id, created_at=now) for c in codes)
    db.flush()
    return codes


def _code_hash(code: str) -> str:
    return tokens.token_hash(code)


def _accept_recovery_code(db: Session, staff: Staff, code: str, now: datetime) -> bool:
    normalized = tokens.normalize_activation_code(code)
    if normalized is None:
        return False
    row = db.get(RecoveryCode, _code_hash(normalized), with_for_update=True)
    if row is None or row.staff_id != staff.id or row.used_at is not None:
        return False
    row.used_at = now
    left = recovery_codes_left(db, staff)
    audit.record(
        db, actor_kind="staff", actor_id=staff.id, action="twofactor.recovery_code", at=now, left=left
    )
    return True


def verify(db: Session, staff: Staff, code: str, now: datetime) -> bool:
    """A TOTP code or an unused recovery code; either is spent by a successful check."""
    if staff.totp_secret is None or len(code) > 64:
        return False
    if totp.normalize(code) is not None:
        return _accept_totp(staff, staff.totp_secret, code, now)
    return _accept_recovery_code(db, staff, code, now)


def recovery_codes_left(db: Session, staff: Staff) -> int:
    rows = db.scalars(
        select(RecoveryCode).where(RecoveryCode.staff_id == staff.id, RecoveryCode.used_at.is_(None))
    ).all()
    return len(rows)
