from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class DetectionRecord(Base):
    """One detection as reported. The fingerprint makes a second report of the same thing a no-op."""

    __tablename__ = "detections"
    __table_args__ = (UniqueConstraint("session_id", "source", "fingerprint"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    source: Mapped[str] = mapped_column(String(8))  # agent | worker
    fingerprint: Mapped[str] = mapped_column(String(96))
    behaviour: Mapped[str] = mapped_column(String(48))
    score: Mapped[float] = mapped_column(Float)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence: Mapped[list[str]] = mapped_column(JSONType, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flag(Base):
    """An episode: consecutive detections of one behaviour from one source, coloured by the rules.

    Rebuilt from the detections whenever they or the rules change. Not a verdict.
    """

    __tablename__ = "flags"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    source: Mapped[str] = mapped_column(String(8))
    behaviour: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(8))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    peak_score: Mapped[float] = mapped_column(Float)
    detections: Mapped[int] = mapped_column(Integer)
    evidence: Mapped[list[str]] = mapped_column(JSONType, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleSetRow(Base):
    """Rule overrides: the institution's defaults (exam_id empty) or one exam's changes to them."""

    __tablename__ = "flag_rules"
    __table_args__ = (UniqueConstraint("institution_id", "scope"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    institution_id: Mapped[str] = mapped_column(ForeignKey("institutions.id"), index=True)
    scope: Mapped[str] = mapped_column(String(40))  # "institution" or "exam:<exam id>"
    rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
