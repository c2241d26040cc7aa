"""Staff accounts: creation, password login, bearer tokens.

Two-factor login (TOTP) and the browser session arrive with the web UI (issue 5); until then the
staff API is a bearer-token API for the CLI and scripts.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from invigil.accounts import passwords, repository
from invigil.accounts.models import Role, Staff, StaffToken
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.errors import Conflict, Invalid, Unauthorized


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def create_staff(
    db: Session, institution: Institution, email: str, display_name: str, role: Role, password: str
) -> Staff:
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
    return staff


def login(
    db: Session, institution: Institution, email: str, password: str, now: datetime, ttl_seconds: int
) -> tuple[Staff, str]:
    staff = repository.by_email(db, institution.id, email)
    if staff is None or not staff.is_active:
        passwords.burn_time(password)
        raise Unauthorized("Wrong email or password.")
    ok, upgraded = passwords.verify(staff.password_hash, password)
    if not ok:
        raise Unauthorized("Wrong email or password.")
    if upgraded:
        staff.password_hash = upgraded
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
    return staff, token


def resolve_token(db: Session, token: str, now: datetime) -> Staff:
    row = db.get(StaffToken, tokens.token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("Your login has expired or is not valid; log in again.")
    staff = db.get(Staff, row.staff_id)
    if staff is None or not staff.is_active:
        raise Unauthorized("This account is disabled.")
    return staff


def logout(db: Session, token: str, now: datetime) -> None:
    row = db.get(StaffToken, tokens.token_hash(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
