from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class Exam(Base):
    __tablename__ = "exams"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(64))
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType)
    retention: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class ExamKey(Base):
    """One public key of an exam: one per retention category and generation (exams/keys.py).

    Its private half exists only sealed, in KeyGrant rows. Rotation retires a generation; shredding
    deletes every sealed copy of a category's keys when its retention ends, so the ciphertext sealed
    to them can never be opened again, wherever copies of it went.
    """

    __tablename__ = "exam_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(Integer)
    public_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KeyGrant(Base):
    """One sealed copy of an exam private key, openable only by its holder's private key."""

    __tablename__ = "key_grants"
    __table_args__ = (UniqueConstraint("exam_kid", "holder_kid"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_kid: Mapped[str] = mapped_column(ForeignKey("exam_keys.kid"), index=True)
    holder_kind: Mapped[str] = mapped_column(String(16))  # "recovery" | "staff"
    holder_kid: Mapped[str] = mapped_column(String(64))
    holder_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    sealed_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExamAssignment(Base):
    """Who may see what of one exam: invigilators during its window, reviewers afterwards."""

    __tablename__ = "exam_assignments"
    __table_args__ = (UniqueConstraint("exam_id", "staff_id", "role"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Candidate(Base):
    """A candidate as the proctoring data knows them: a pseudonym, nothing more."""

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("exam_id", "pseudonym"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CandidateIdentity(Base):
    """Names kept apart from the proctoring data, and never inside evidence."""

    __tablename__ = "candidate_identities"

    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    student_number: Mapped[str] = mapped_column(String(64), default="")
