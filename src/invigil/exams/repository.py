"""Every query of the exams domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff
from invigil.exams.models import Candidate, CandidateIdentity, Exam, ExamAssignment, ExamKey, KeyGrant
from invigil.sessions.models import ExamSession


def get(db: Session, exam_id: str) -> Exam | None:
    return db.get(Exam, exam_id)


def live_keys(db: Session, exam_id: str) -> Sequence[ExamKey]:
    """Every key of the exam that has not been shredded, current and retired."""
    return db.scalars(
        select(ExamKey)
        .where(ExamKey.exam_id == exam_id, ExamKey.shredded_at.is_(None))
        .order_by(ExamKey.generation, ExamKey.category)
    ).all()


def grants_of(db: Session, exam_id: str, holder_kid: str) -> Sequence[KeyGrant]:
    return db.scalars(
        select(KeyGrant)
        .join(ExamKey, ExamKey.kid == KeyGrant.exam_kid)
        .where(ExamKey.exam_id == exam_id, KeyGrant.holder_kid == holder_kid)
    ).all()


def exams_of_institution(db: Session, institution_id: str) -> Sequence[Exam]:
    return db.scalars(
        select(Exam).where(Exam.institution_id == institution_id).order_by(Exam.starts_at.desc())
    ).all()


def assigned_exams(db: Session, staff_id: str) -> Sequence[Exam]:
    return db.scalars(
        select(Exam)
        .join(ExamAssignment, ExamAssignment.exam_id == Exam.id)
        .where(ExamAssignment.staff_id == staff_id)
        .order_by(Exam.starts_at.desc())
        .distinct()
    ).all()


def assignment_roles(db: Session, exam_id: str, staff_id: str) -> set[str]:
    return set(
        db.scalars(
            select(ExamAssignment.role).where(
                ExamAssignment.exam_id == exam_id, ExamAssignment.staff_id == staff_id
            )
        ).all()
    )


def candidate(db: Session, candidate_id: str) -> Candidate | None:
    return db.get(Candidate, candidate_id)


def pseudonyms(db: Session, exam_id: str) -> set[str]:
    return set(db.scalars(select(Candidate.pseudonym).where(Candidate.exam_id == exam_id)).all())


def roster(db: Session, exam_id: str) -> Sequence[tuple[Candidate, CandidateIdentity | None, ExamSession]]:
    """Every candidate of the exam with their identity (kept apart) and session, by pseudonym."""
    return db.execute(  # type: ignore[return-value]  # rows of three, as selected
        select(Candidate, CandidateIdentity, ExamSession)
        .outerjoin(CandidateIdentity, CandidateIdentity.candidate_id == Candidate.id)
        .join(ExamSession, ExamSession.candidate_id == Candidate.id)
        .where(Candidate.exam_id == exam_id)
        .order_by(Candidate.pseudonym)
    ).all()


def assignments_of(db: Session, exam_id: str) -> Sequence[tuple[ExamAssignment, Staff]]:
    return db.execute(  # type: ignore[return-value]  # rows of two, as selected
        select(ExamAssignment, Staff)
        .join(Staff, Staff.id == ExamAssignment.staff_id)
        .where(ExamAssignment.exam_id == exam_id)
        .order_by(ExamAssignment.role, Staff.email)
    ).all()
