"""Staff accounts: creation, password and second-factor checks, bearer tokens for the API.

The browser's login (accounts/websessions.py) uses the same checks; accounts/login.py throttles both.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from invigil.accounts import passwords, repository, twofactor
from invigil.accounts.login import LoginFailed
from invigil.accounts.models import Role, Staff, StaffToken
from invigil.audit import service as audit
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.kit.errors import Conflict, Forbidden, Invalid, Unauthorized


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_staff(
    db: Session,
    institution: Institution,
    email: str,
    display_name: str,
    role: Role,
    password: str,
    by: str | None = None,
) -> Staff:
    """A new account; ``by`` is the admin who made it (None: a script, logged as 'cli')."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid(f"'{email}' is not an email address.")
    if len(password) < passwords.MIN_LENGTH:
        raise Invalid(f"Passwords need at least {passwords.MIN_LENGTH} characters.")
    if repository.by_email(db, institution.id, email):
        raise Conflict(f"There is already a staff account for {email}.")
    staff = Staff(
        institution_id=institution.id,
        email=email,
        display_name=display_name,
        role=Role(role).value,
        password_hash=passwords.hash_password(password),
    )
    db.add(staff)
    db.flush()
    audit.record(
        db,
        actor_kind="staff" if by else "system",
        actor_id=by or "cli",
        action="staff.create",
        at=utcnow(),
        staff=staff.id,
        role=staff.role,
    )
    return staff


WRONG_CODE = (
    "That code is not valid. Type the newest code from your authenticator app (each code works once), "
    "or one of your recovery codes."
)


def check_password(db: Session, institution: Institution | None, email: str, password: str) -> Staff:
    """The account behind email and password, or LoginFailed (in the same time either way)."""
    staff = repository.by_email(db, institution.id, email) if institution else None
    if staff is None or not staff.is_active:
        passwords.burn_time(password)
        raise LoginFailed()
    ok, upgraded = passwords.verify(staff.password_hash, password)
    if not ok:
        raise LoginFailed()
    if upgraded:
        staff.password_hash = upgraded
    return staff


def check_second_factor(db: Session, staff: Staff, code: str | None, now: datetime, login_url: str) -> None:
    """A TOTP or recovery code for an enrolled account; a clear refusal for one that must enrol first."""
    if not twofactor.is_enrolled(staff):
        if twofactor.needs_two_factor(staff.role):
            raise Forbidden(
                f"Set up two-factor login first: log in once in the browser at {login_url} and follow "
                "the steps; after that, send the code from your authenticator app as 'totp'."
            )
        record_login(db, staff, now)
        return
    if not code:
        raise LoginFailed("This account logs in with the 6-digit code from your authenticator app as well.")
    if not twofactor.verify(db, staff, code, now):
        raise LoginFailed(WRONG_CODE)
    record_login(db, staff, now)


def record_login(db: Session, staff: Staff, now: datetime) -> None:
    """A completed login, in the access log (failed ones are logged by accounts/login.py)."""
    audit.record(db, actor_kind="staff", actor_id=staff.id, action="login", at=now)


def issue_token(db: Session, staff: Staff, now: datetime, ttl_seconds: int) -> str:
    token = tokens.new_token()
    db.add(
        StaffToken(
            token_hash=tokens.token_hash(token),
            staff_id=staff.id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    staff.last_login_at = now
    return token


def _live_token(db: Session, token: str, now: datetime) -> StaffToken | None:
    row = db.get(StaffToken, tokens.token_hash(token))
    return row if row is not None and row.revoked_at is None and row.expires_at > now else None


def resolve_token(db: Session, token: str, now: datetime) -> Staff:
    row = _live_token(db, token, now)
    if row is None:
        raise Unauthorized("Your login has expired or is not valid; log in again.")
    staff = db.get(Staff, row.staff_id)
    if staff is None or not staff.is_active:
        raise Unauthorized("This account is disabled.")
    return staff


def token_alive(db: Session, token: str, now: datetime) -> bool:
    return _live_token(db, token, now) is not None


def logout(db: Session, token: str, now: datetime) -> None:
    row = db.get(StaffToken, tokens.token_hash(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        audit.record(db, actor_kind="staff", actor_id=row.staff_id, action="logout", at=now)
