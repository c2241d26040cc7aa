"""What reviewers read: flags per session or exam, and the cohort aggregates. Access is checked by
the caller (exams/access.py); these only assemble."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.analysis import cohort
from invigil.exams.models import Exam
from invigil.flags import repository, service
from invigil.sessions import repository as sessions_repo


def session_flags(db: Session, session_id: str) -> dict[str, Any]:
    flags = repository.flags_of_session(db, session_id)
    return {
        "session_id": session_id,
        "counts": service.counts_by_severity(service.preferred(flags)),
        "flags": service.describe(flags),
        "note": "A flag asks a person to look. It is not a verdict, and nothing acts on it.",
    }


def exam_flags(db: Session, exam: Exam) -> dict[str, Any]:
    flags = repository.flags_of_exam(db, exam.id)
    by_session: dict[str, list[Any]] = {}
    for f in flags:
        by_session.setdefault(f.session_id, []).append(f)
    rows = []
    for session, pseudonym in sessions_repo.board_rows(db, exam.id):
        mine = by_session.get(session.id, [])
        rows.append(
            {
                "session_id": session.id,
                "candidate": pseudonym,
                "counts": service.counts_by_severity(service.preferred(mine)),
                "flags": service.describe(mine),
            }
        )
    return {"exam_id": exam.id, "sessions": rows}


def exam_cohort(db: Session, exam: Exam) -> dict[str, Any]:
    flags = repository.flags_of_exam(db, exam.id)
    rows = sessions_repo.board_rows(db, exam.id)
    periods: dict[str, list[tuple[datetime, str, str]]] = {}
    for p in sessions_repo.offline_periods(db, [s.id for s, _ in rows]):
        periods.setdefault(p.session_id, []).append((p.started_at, "offline", ""))
    facts = []
    for session, pseudonym in rows:
        mine = service.preferred(f for f in flags if f.session_id == session.id)
        timeline: list[tuple[datetime, str, str]] = [*periods.get(session.id, [])]
        if session.activated_at:
            timeline.append((session.activated_at, "started", ""))
        if session.handed_in_at:
            timeline.append((session.handed_in_at, "handed in", ""))
        timeline.extend((f.start, f"flag {f.severity}", f.behaviour) for f in mine)
        facts.append(
            cohort.CandidateFacts(
                session.id,
                pseudonym,
                session.activated_at,
                session.handed_in_at,
                service.counts_by_severity(mine),
                timeline,
            )
        )
    return {"exam_id": exam.id, **cohort.aggregate(exam.starts_at, facts)}
