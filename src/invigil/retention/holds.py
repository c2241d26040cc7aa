"""Legal holds: place, release, and what is held right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.kit import reasons
from invigil.kit.errors import Conflict
from invigil.retention.models import LegalHold


@dataclass(frozen=True)
class Held:
    whole_exam: bool
    sessions: frozenset[str]

    def covers(self, session_id: str) -> bool:
        return self.whole_exam or session_id in self.sessions

    @property
    def any(self) -> bool:
        return self.whole_exam or bool(self.sessions)


def place(
    db: Session, exam_id: str, session_id: str | None, staff_id: str, reason: str, now: datetime
) -> LegalHold:
    reason = reasons.written(reason, "Say why the data must be kept: a case number, a complaint")
    hold = LegalHold(exam_id=exam_id, session_id=session_id, reason=reason, placed_by=staff_id, placed_at=now)
    db.add(hold)
    db.flush()
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="retention.hold",
        at=now,
        exam_id=exam_id,
        session_id=session_id,
        hold=hold.id,
    )
    return hold


def release(db: Session, hold: LegalHold, staff_id: str, now: datetime) -> LegalHold:
    if hold.released_at is not None:
        raise Conflict("This hold was already released.")
    hold.released_at, hold.released_by = now, staff_id
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="retention.release",
        at=now,
        exam_id=hold.exam_id,
        session_id=hold.session_id,
        hold=hold.id,
    )
    return hold


def of_exam(db: Session, exam_id: str) -> list[LegalHold]:
    return list(
        db.scalars(select(LegalHold).where(LegalHold.exam_id == exam_id).order_by(LegalHold.placed_at))
    )


def held(db: Session, exam_id: str) -> Held:
    active = [h for h in of_exam(db, exam_id) if h.released_at is None]
    return Held(
        any(h.session_id is None for h in active), frozenset(h.session_id for h in active if h.session_id)
    )
