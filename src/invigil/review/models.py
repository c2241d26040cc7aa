from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, UTCDateTime
from invigil.kit.ids import new_id


class IncidentNote(Base):
    """What an invigilator (or reviewer) saw or was told, in their words. Never edited: a correction
    is a new note."""

    __tablename__ = "incident_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("exam_sessions.id"), index=True, nullable=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """A reviewer's decision about one candidate's exam, with the reason. The latest one stands; the
    earlier ones stay, so the history of a case is visible."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    outcome: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Erasure(Base):
    """An evidence item a reviewer erased because it holds sensitive personal data (a health
    document on screen, a family member on camera): who, when, why. The ciphertext is deleted."""

    __tablename__ = "erasures"

    item_id: Mapped[str] = mapped_column(ForeignKey("evidence_items.id"), primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
