from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, UTCDateTime
from invigil.kit.ids import new_id


class EvidenceItem(Base):
    """Metadata of one sealed item. The bytes live in the blob store, and are ciphertext."""

    __tablename__ = "evidence_items"
    # Also the index by session: no separate one, so each insert writes one B-tree fewer.
    __table_args__ = (UniqueConstraint("session_id", "client_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"))
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="partial")  # partial | stored | shredded | erased
    size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    exam_kid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    blob_key: Mapped[str] = mapped_column(String(512))
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
