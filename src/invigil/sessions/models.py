from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class ExamSession(Base):
    """One candidate's sitting of one exam, from issued code to closed (states.py)."""

    __tablename__ = "exam_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    candidate_id: Mapped[str] = mapped_column(ForeignKey("candidates.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="issued", index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    code_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    offline_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    handed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tail_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    items: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    agent_info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The candidate's own key (the private half is theirs alone: it is the secret on the receipt).
    candidate_public_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    candidate_kid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The exam key generation this agent was last given, and when (evidence/service.py, keys.py).
    # The privacy notice the candidate accepted before activation (privacy/notice.py), and when.
    notice_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notice_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    key_generation: Mapped[int] = mapped_column(Integer, default=0)
    key_generation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class OfflinePeriod(Base):
    __tablename__ = "offline_periods"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ActivationFailure(Base):
    """Wrong-code counter per client bucket (truncated address), for the guessing rate limit."""

    __tablename__ = "activation_failures"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class Event(Base):
    """A small, server-readable fact from the agent: type, time, score, severity."""

    __tablename__ = "events"
    # Also the index by session: no separate one, so each insert writes one B-tree fewer.
    __table_args__ = (UniqueConstraint("session_id", "client_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    severity: Mapped[str | None] = mapped_column(String(8), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Handin(Base):
    __tablename__ = "handins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    handed_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSONType)
    signature: Mapped[str] = mapped_column(Text)
    portal_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
