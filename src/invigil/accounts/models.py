from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    INVIGILATOR = "invigilator"
    REVIEWER = "reviewer"
    EXAMINER = "examiner"  # grades hand-ins; sees no proctoring data at all


# The roles that may see candidate data (given an assignment), and so hold a personal key pair.
CANDIDATE_DATA_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.INVIGILATOR, Role.REVIEWER})


def sees_candidate_data(role: str) -> bool:
    return role in CANDIDATE_DATA_ROLES


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("institution_id", "email"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Two-factor login (accounts/twofactor.py). The secret is what an authenticator app holds; the
    # last accepted time step stops a code from being used twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffToken(Base):
    __tablename__ = "staff_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class StaffKey(Base):
    """A person's X25519 key pair: the public half, and the private half wrapped with their passphrase.

    The passphrase is not the login password and never reaches the server: the person's browser or
    CLI makes the key pair, wraps it (PBKDF2-HMAC-SHA512 + AES-256-GCM, kit/keywrap.py) and uploads
    the result. The public key never changes: grants are sealed to it. Changing the passphrase only
    replaces ``wrapped``.
    """

    __tablename__ = "staff_keys"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_key: Mapped[str] = mapped_column(Text)
    wrapped: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(Base):
    """One of the ten one-time codes shown at enrolment; stored as a SHA-256 (80-bit codes)."""

    __tablename__ = "staff_recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebSession(Base):
    """A browser's login (accounts/websessions.py). The cookie holds a random id; this row holds its
    hash, how far the login got, the CSRF token and the two deadlines (idle and absolute)."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # "second_factor", "enrol" or "full"
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending_totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginThrottle(Base):
    """Failed logins per account (a hash of institution and email, whether or not the account
    exists) and per client network, shared by every API node through the database."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
