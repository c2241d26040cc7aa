"""Every query of the sessions domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
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


def sweep_candidates(
    db: Session, now: datetime, offline_after_seconds: int
) -> Sequence[tuple[ExamSession, Exam]]:
    """Live sessions the sweeper may have to close or abandon, filtered in SQL.

    Necessary conditions only (the exact grace depends on the exam's policy, checked in Python):
    a finished tail, a code unused after the exam's end, or a session whose exam ended at least
    ``offline_after_seconds`` ago. While exams run this is empty, however many sessions are live.
    """
    settled = now - timedelta(seconds=offline_after_seconds)
    rows = db.execute(
        select(ExamSession, Exam)
        .join(Exam, Exam.id == ExamSession.exam_id)
        .where(
            or_(
                and_(
                    ExamSession.state.in_([State.HANDED_IN.value, State.TAIL.value]),
                    ExamSession.tail_ends_at < settled,
                ),
                and_(ExamSession.state == State.ISSUED.value, Exam.ends_at < now),
                and_(
                    ExamSession.state.in_([State.ACTIVATED.value, State.RUNNING.value, State.OFFLINE.value]),
                    Exam.ends_at < settled,
                ),
            )
        )
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
