"""Every query of the flags domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from invigil.flags.models import DetectionRecord, Flag, RuleSetRow
from invigil.sessions.models import Event


def fingerprints(db: Session, session_id: str, source: str) -> set[str]:
    rows = db.scalars(
        select(DetectionRecord.fingerprint).where(
            DetectionRecord.session_id == session_id, DetectionRecord.source == source
        )
    )
    return set(rows)


def detections(db: Session, session_id: str) -> Sequence[DetectionRecord]:
    return db.scalars(
        select(DetectionRecord)
        .where(DetectionRecord.session_id == session_id)
        .order_by(DetectionRecord.start, DetectionRecord.id)
    ).all()


def forget_detections(db: Session, session_ids: Sequence[str], source: str, prefix: str) -> int:
    """Drop derived detections (fingerprints starting with ``prefix``) before they are recomputed."""
    if not session_ids:
        return 0
    result = db.execute(
        delete(DetectionRecord).where(
            DetectionRecord.session_id.in_(session_ids),
            DetectionRecord.source == source,
            DetectionRecord.fingerprint.startswith(prefix, autoescape=True),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def delete_flags(db: Session, session_id: str) -> None:
    db.execute(delete(Flag).where(Flag.session_id == session_id))


def flags_of_session(db: Session, session_id: str) -> Sequence[Flag]:
    return db.scalars(
        select(Flag).where(Flag.session_id == session_id).order_by(Flag.start, Flag.behaviour, Flag.source)
    ).all()


def flags_of_exam(db: Session, exam_id: str) -> Sequence[Flag]:
    return db.scalars(
        select(Flag).where(Flag.exam_id == exam_id).order_by(Flag.session_id, Flag.start, Flag.behaviour)
    ).all()


def sessions_with_detections(db: Session, exam_id: str) -> list[str]:
    return list(
        db.scalars(select(DetectionRecord.session_id).where(DetectionRecord.exam_id == exam_id).distinct())
    )


def rule_row(db: Session, institution_id: str, scope: str) -> RuleSetRow | None:
    return db.scalars(
        select(RuleSetRow).where(RuleSetRow.institution_id == institution_id, RuleSetRow.scope == scope)
    ).first()


def events_of_session(db: Session, session_id: str) -> Sequence[Event]:
    return db.scalars(select(Event).where(Event.session_id == session_id).order_by(Event.at, Event.id)).all()
