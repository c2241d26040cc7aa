"""Expiry of the records that are not sealed evidence: flags and decisions (detections, flags,
decisions, incident notes, erasure records) and identity data (candidates' names, e-mail addresses,
student numbers; the pseudonyms stay). Legal holds are respected as for evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.container import Container
from invigil.exams.models import Candidate, CandidateIdentity, Exam
from invigil.exams.retention import expires_at
from invigil.flags.models import DetectionRecord, Flag
from invigil.retention import holds
from invigil.review.models import Decision, Erasure, IncidentNote
from invigil.sessions.models import ExamSession

SESSION_RECORDS: dict[str, tuple[Any, ...]] = {
    "flags_and_decisions": (DetectionRecord, Flag, Decision, IncidentNote, Erasure),
}
CATEGORIES = ("flags_and_decisions", "identity")


@dataclass(frozen=True)
class Expired:
    exam_id: str
    category: str
    rows: dict[str, int]


def count_and_delete(db: Session, model: Any, where: Any) -> int:
    """Delete the rows and say how many went (one statement; the certificate lists the count)."""
    result = cast(CursorResult[Any], db.execute(delete(model).where(where)))
    return int(result.rowcount or 0)


def expire_exam(db: Session, exam: Exam, category: str, now: datetime) -> Expired | None:
    held = holds.held(db, exam.id)
    if held.whole_exam or expires_at(exam.ends_at, exam.retention, category) > now:
        return None
    free = [
        s
        for s in db.scalars(select(ExamSession.id).where(ExamSession.exam_id == exam.id))
        if not held.covers(s)
    ]
    rows: dict[str, int] = {}
    if category == "identity":
        candidates = select(ExamSession.candidate_id).where(ExamSession.id.in_(free))
        rows["candidate_identities"] = count_and_delete(
            db, CandidateIdentity, CandidateIdentity.candidate_id.in_(candidates)
        )
        unsessioned = select(Candidate.id).where(
            Candidate.exam_id == exam.id, ~Candidate.id.in_(select(ExamSession.candidate_id))
        )
        rows["candidate_identities"] += count_and_delete(
            db, CandidateIdentity, CandidateIdentity.candidate_id.in_(unsessioned)
        )
    else:
        for model in SESSION_RECORDS[category]:
            rows[model.__tablename__] = count_and_delete(db, model, model.session_id.in_(free))
        if not held.any:  # notes about the exam as a whole
            rows["incident_notes"] += count_and_delete(
                db, IncidentNote, (IncidentNote.exam_id == exam.id) & IncidentNote.session_id.is_(None)
            )
    rows = {k: v for k, v in rows.items() if v}
    if not rows:
        return None
    audit.record(
        db,
        actor_kind="system",
        actor_id="retention",
        action="retention.delete_records",
        at=now,
        exam_id=exam.id,
        category=category,
        rows=rows,
        held_sessions=len(held.sessions),
    )
    return Expired(exam.id, category, rows)


def run(c: Container, now: datetime) -> list[Expired]:
    out: list[Expired] = []
    with c.uow() as db:
        exam_ids = list(db.scalars(select(Exam.id).where(Exam.ends_at < now)))
    for exam_id in exam_ids:
        with c.uow() as db:
            exam = db.get(Exam, exam_id)
            assert exam is not None
            for category in CATEGORIES:
                done = expire_exam(db, exam, category, now)
                if done is not None:
                    out.append(done)
    return out


def count_for_exam(db: Session, model: Any, exam_id: str) -> int:
    return int(db.scalar(select(func.count()).select_from(model).where(model.exam_id == exam_id)) or 0)


def identities_left(db: Session, exam_id: str) -> int:
    of_exam = select(Candidate.id).where(Candidate.exam_id == exam_id)
    query = (
        select(func.count()).select_from(CandidateIdentity).where(CandidateIdentity.candidate_id.in_(of_exam))
    )
    return int(db.scalar(query) or 0)
