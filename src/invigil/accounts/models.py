from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
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
