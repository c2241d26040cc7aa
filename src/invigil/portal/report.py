"""Everything Invigil holds about one candidate's exam, for the candidate (GDPR Art. 15): what was
collected and what became of it, their session's course, the flags and the decisions about them,
who opened their data and when, and the privacy notice of the exam. The evidence itself stays
sealed: only the candidate's receipt secret opens it, on their side.

Staff appear by role and a short stable reference, not by name: the candidate learns which kind of
person looked and can ask the DPO who it was; staff are not exposed to everyone who sat the exam.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff
from invigil.audit import service as audit
from invigil.audit.models import AccessLogEntry
from invigil.evidence import service as evidence
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import Candidate, Exam
from invigil.flags import repository as flags_repo
from invigil.flags import service as flags
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.clock import iso
from invigil.privacy import notice
from invigil.review import service as review
from invigil.sessions import repository as sessions_repo
from invigil.sessions.models import ExamSession, Handin

READS = (
    "evidence.read",
    "evidence.list",
    "evidence.analyse",
    "evidence.export",
    "timeline.read",
    "flags.read",
    "decisions.read",
    "evidence.erase",
    "portal.read",
    "portal.list",
    "portal.export",
)


def session_of(db: Session, portal_token: str) -> tuple[ExamSession, Handin] | None:
    """The session and hand-in behind a receipt link; None for any link that is not one."""
    if len(portal_token) > 128:
        return None
    handin = sessions_repo.handin_by_portal_hash(db, tokens.token_hash(portal_token))
    session = db.get(ExamSession, handin.session_id) if handin else None
    return (session, handin) if session is not None and handin is not None else None


def log_use(db: Session, session: ExamSession, action: str, now: datetime) -> None:
    """The candidate's own use of their link, in the access log (and so in the next report)."""
    audit.record(
        db,
        actor_kind="candidate",
        actor_id=session.id,
        action=action,
        at=now,
        exam_id=session.exam_id,
        session_id=session.id,
    )


def staff_reference(staff_id: str) -> str:
    return hashlib.sha256(staff_id.encode()).hexdigest()[:6]


def items(db: Session, session_id: str) -> list[EvidenceItem]:
    query = (
        select(EvidenceItem)
        .where(EvidenceItem.session_id == session_id, EvidenceItem.status.in_(evidence.FINAL))
        .order_by(EvidenceItem.captured_at)
    )
    return list(db.scalars(query))


def item_entry(i: EvidenceItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "client_id": i.client_id,
        "kind": i.kind,
        "captured_at": iso(i.captured_at),
        "size": i.size,
        "status": i.status,
        "deleted_at": iso(i.shredded_at) if i.shredded_at else None,
    }


def build(db: Session, session: ExamSession, now: datetime) -> dict[str, Any]:
    exam = db.get(Exam, session.exam_id)
    candidate = db.get(Candidate, session.candidate_id)
    institution = db.get(Institution, exam.institution_id) if exam else None
    assert exam is not None
    assert candidate is not None
    assert institution is not None
    roles = {
        s.id: s.role for s in db.scalars(select(Staff).where(Staff.institution_id == exam.institution_id))
    }
    log = db.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.session_id == session.id, AccessLogEntry.action.in_(READS))
        .order_by(AccessLogEntry.at)
    )
    accessed = [
        {
            "at": iso(e.at),
            "who": "you"
            if e.actor_kind == "candidate"
            else f"{roles.get(e.actor_id, e.actor_kind)} {staff_reference(e.actor_id)}"
            if e.actor_kind in ("staff", "worker")
            else e.actor_kind,
            "action": e.action,
            "item": e.item_id,
        }
        for e in log
    ]
    facts = notice.facts(exam, institution)
    return {
        "exam": {
            "id": exam.id,
            "title": exam.title,
            "starts_at": iso(exam.starts_at),
            "ends_at": iso(exam.ends_at),
            "timezone": exam.timezone,
        },
        "session_id": session.id,
        "candidate": candidate.pseudonym,
        "candidate_kid": session.candidate_kid,
        "generated_at": iso(now),
        "session": {
            "state": session.state,
            "activated_at": iso(session.activated_at),
            "handed_in_at": iso(session.handed_in_at),
            "closed_at": iso(session.closed_at),
            "privacy_notice_accepted": {
                "version": session.notice_version,
                "at": iso(session.notice_accepted_at),
            },
            "offline_periods": [
                {"start": iso(p.started_at), "end": iso(p.ended_at)}
                for p in sessions_repo.offline_periods(db, [session.id])
            ],
        },
        "items": [item_entry(i) for i in items(db, session.id)],
        "flags": [
            {k: f[k] for k in ("behaviour", "severity", "start", "end", "source", "peak_score")}
            for f in flags.describe(flags_repo.flags_of_session(db, session.id))
        ],
        "decisions": [
            {"at": iso(d.at), "outcome": d.outcome, "reason": d.reason}
            for d in review.decisions(db, session.id)
        ],
        "accessed": accessed,
        "privacy_notice": {"version": notice.version(facts), "facts": facts},
    }
