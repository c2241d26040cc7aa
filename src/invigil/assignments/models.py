from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class AssignmentSet(Base):
    """An exam's sealed assignment: what every file shares (KDF, salt, PIN check), and a digest."""

    __tablename__ = "assignment_sets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), unique=True)
    kdf: Mapped[dict[str, Any]] = mapped_column(JSONType)  # argon2id memory_kib, iterations, parallelism
    salt: Mapped[str] = mapped_column(String(64))  # base64, 16 bytes, one per upload
    check: Mapped[str] = mapped_column(String(64))  # base64, tells a wrong PIN from an altered file
    digest: Mapped[str] = mapped_column(String(64))  # protocol.assignment.digest of the files
    file_count: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)  # 1 + the number of replacements
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)


class AssignmentFile(Base):
    """One sealed file: ciphertext in the blob store, its name, sizes and SHA-256 here."""

    __tablename__ = "assignment_files"
    __table_args__ = (UniqueConstraint("set_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    set_id: Mapped[str] = mapped_column(ForeignKey("assignment_sets.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)  # sealed bytes
    plain_size: Mapped[int] = mapped_column(BigInteger)  # from the header; the server cannot read them
    sha256: Mapped[str] = mapped_column(String(64))  # of the sealed bytes
    blob_key: Mapped[str] = mapped_column(String(512))


class AssignmentDelivery(Base):
    """Per candidate: the agent confirmed the download (received) and later opening it with the PIN."""

    __tablename__ = "assignment_deliveries"

    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), primary_key=True)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
