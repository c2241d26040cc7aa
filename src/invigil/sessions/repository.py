"""Every query of the sessions domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from invigil.exams.models import Candidate, Exam
from invigil.sessions.models import ExamSession, Handin, OfflinePeriod
from invigil.sessions.states import State


def by_code_hash(db: Session, code_hash: str) -> ExamSession | None:
    return db.scalar(select(ExamSession).where(ExamSession.code_hash == code_hash))


def by_token_hash(db: Session, token_hash: str) -> ExamSession | None:
    return db.scalar(select(ExamSession).where(ExamSession.token_hash == token_hash))


def get(db: Session, session_id: str) -> ExamSession | None:
    return db.get(ExamSession, session_id)


def open_offline_period(db: Session, session_id: str) -> OfflinePeriod | None:
    return db.scalar(
        select(OfflinePeriod).where(OfflinePeriod.session_id == session_id, OfflinePeriod.ended_at.is_(None))
    )


def handin_for(db: Session, session_id: str) -> Handin | None:
    return db.scalar(select(Handin).where(Handin.session_id == session_id))


def handin_by_portal_hash(db: Session, token_hash: str) -> Handin | None:
    return db.scalar(select(Handin).where(Handin.portal_token_hash == token_hash))


def silent_sessions(db: Session, states: Sequence[State], before: datetime) -> Sequence[ExamSession]:
    """Live sessions whose last sign of life is older than ``before`` and not yet marked offline."""
    last = func.coalesce(ExamSession.last_heartbeat_at, ExamSession.activated_at)
    return db.scalars(
        select(ExamSession).where(
            ExamSession.state.in_([s.value for s in states]),
            ExamSession.offline_since.is_(None),
            last < before,
        )
    ).all()


def sessions_in_states(db: Session, states: Sequence[State]) -> Sequence[tuple[ExamSession, Exam]]:
    rows = db.execute(
        select(ExamSession, Exam)
        .join(Exam, Exam.id == ExamSession.exam_id)
        .where(ExamSession.state.in_([s.value for s in states]))
    ).all()
    return [(r[0], r[1]) for r in rows]


def board_rows(db: Session, exam_id: str) -> Sequence[tuple[ExamSession, str]]:
    rows = db.execute(
        select(ExamSession, Candidate.pseudonym)
        .join(Candidate, Candidate.id == ExamSession.candidate_id)
        .where(ExamSession.exam_id == exam_id)
        .order_by(Candidate.pseudonym)
    ).all()
    return [(r[0], r[1]) for r in rows]


def offline_periods(db: Session, session_ids: Sequence[str]) -> Sequence[OfflinePeriod]:
    if not session_ids:
        return []
    return db.scalars(
        select(OfflinePeriod)
        .where(OfflinePeriod.session_id.in_(session_ids))
        .order_by(OfflinePeriod.started_at)
    ).all()
