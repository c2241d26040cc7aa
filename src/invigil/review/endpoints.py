"""Staff API for the review: a candidate's timeline, incident notes, decisions, erasure of sensitive
items. Who may do what is decided in exams/access.py; every read of candidate data is logged.

- timeline, decisions (read): whoever may read the exam's evidence (reviewers; invigilators in the
  window).
- notes: invigilators of the exam during its window, and its reviewers.
- decisions (record), erasure, the case file (ADR 0021): the exam's reviewers only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.container import Container
from invigil.evidence import repository as evidence_repo
from invigil.evidence.shredding import delete_erased_blobs
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.kit import reasons
from invigil.kit.clock import iso, utcnow
from invigil.privacy import requests as subject_requests
from invigil.review import case_file, service
from invigil.review.models import Decision, IncidentNote
from invigil.sessions import repository as sessions_repo
from invigil.sessions.models import ExamSession

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class NoteBody(BaseModel):
    text: str = Field(max_length=reasons.MAX_TEXT, description="What happened, in your words.")
    session_id: str | None = Field(
        default=None, description="The candidate it concerns; none: the whole exam."
    )


class DecisionBody(BaseModel):
    outcome: str = Field(description="no_action, follow_up or report")
    reason: str = Field(max_length=reasons.MAX_TEXT, description="Why, for whoever reads the case later.")


class EraseBody(BaseModel):
    reason: str = Field(max_length=reasons.MAX_TEXT, description="What sensitive data the item holds.")


def _session(db: Any, staff: Staff, session_id: str, purpose: access.Purpose, now: Any) -> ExamSession:
    session = access.require_for(db, staff, sessions_repo.get(db, session_id), purpose, now)
    subject_requests.check_not_restricted(db, session.id)
    return session


def _note(n: IncidentNote) -> dict[str, Any]:
    return {"id": n.id, "session_id": n.session_id, "staff_id": n.staff_id, "text": n.text, "at": iso(n.at)}


def _decision(d: Decision) -> dict[str, Any]:
    return {"id": d.id, "staff_id": d.staff_id, "outcome": d.outcome, "reason": d.reason, "at": iso(d.at)}


@router.get("/sessions/{session_id}/timeline")
def timeline(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Activation, evidence, events, offline periods, flags, notes, decisions, hand-in — in order. Logged."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, staff, session_id, access.Purpose.EVIDENCE, now)
        access.require_logged(
            db,
            staff,
            exams_repo.get(db, session.exam_id),
            access.Purpose.EVIDENCE,
            now,
            "timeline.read",
            session.id,
        )
        return service.timeline(db, session, now)


@router.post("/exams/{exam_id}/notes", status_code=201)
def add_note(
    exam_id: str, body: NoteBody, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), access.Purpose.INCIDENTS, now)
        if body.session_id is not None:
            access.check_in_exam(sessions_repo.get(db, body.session_id), exam)
        return _note(service.add_note(db, exam.id, body.session_id, staff.id, body.text, now))


@router.get("/exams/{exam_id}/notes")
def list_notes(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = access.require_logged(
            db, staff, exams_repo.get(db, exam_id), access.Purpose.INCIDENTS, now, "notes.read"
        )
        return {"notes": [_note(n) for n in service.notes(db, exam.id)]}


@router.post("/sessions/{session_id}/decisions", status_code=201)
def record_decision(
    session_id: str,
    body: DecisionBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    """A person's decision with its reason. Recorded, never acted on by the software."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, staff, session_id, access.Purpose.DECIDE, now)
        return _decision(service.decide(db, session, staff.id, body.outcome, body.reason, now))


@router.get("/sessions/{session_id}/decisions")
def list_decisions(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        session = _session(db, staff, session_id, access.Purpose.EVIDENCE, now)
        access.require_logged(
            db,
            staff,
            exams_repo.get(db, session.exam_id),
            access.Purpose.EVIDENCE,
            now,
            "decisions.read",
            session.id,
        )
        return {"decisions": [_decision(d) for d in service.decisions(db, session.id)]}


@router.post("/evidence/{item_id}/erase")
def erase(
    item_id: str, body: EraseBody, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Erase one item that holds sensitive personal data: the ciphertext is deleted, the fact and the
    reason stay (and the student's portal says it was erased, and when)."""
    now = utcnow()
    with c.uow() as db:
        item = access.require_for(db, staff, evidence_repo.get(db, item_id), access.Purpose.DECIDE, now)
        service.erase(db, item, staff.id, body.reason, now)
    delete_erased_blobs(c.store, [item])
    return {"id": item.id, "status": "erased", "erased_at": iso(now)}


@router.get("/sessions/{session_id}/case-file", response_class=StreamingResponse)
def export_case_file(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> StreamingResponse:
    """A ZIP for the exam board: timeline, flags, notes, decisions and the evidence items (sealed,
    as stored; ciphertext only). Reviewers of the exam only. Logged as ``casefile.export``."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, staff, session_id, access.Purpose.DECIDE, now)
        exam = exams_repo.get(db, session.exam_id)
        assert exam is not None
        name, body = case_file.build(db, c.store, exam, session, staff.id, now)

    def chunks() -> Any:
        with body:
            while chunk := body.read(1 << 16):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
