from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, UTCDateTime
from invigil.kit.ids import new_id


class SubjectRequest(Base):
    """A candidate's data-protection request about one exam session, and what became of it: the
    register an institution keeps to show its DPA how requests were handled."""

    __tablename__ = "subject_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    exam_id: Mapped[str] = mapped_column(ForeignKey("exams.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # erasure | restriction
    status: Mapped[str] = mapped_column(
        String(16), default="open"
    )  # open | done | in_force | lifted | refused
    note: Mapped[str] = mapped_column(Text, default="")  # how the request came in, in the staff's words
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was carried out this way, or refused
