from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, UTCDateTime
from invigil.kit.ids import new_id


class LegalHold(Base):
    """While a case is open, retention waits: nothing of the held session (or, without one, of the
    whole exam) is destroyed until the hold is released. Holds are never deleted, only released."""

    __tablename__ = "legal_holds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("exam_sessions.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
