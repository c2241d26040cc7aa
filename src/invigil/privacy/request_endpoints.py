"""Staff API for data-subject requests (privacy/requests.py): register, carry out, refuse, lift,
and the exam's register. For the exam's reviewers, coordinators and admins (those who handle cases)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.container import Container
from invigil.evidence.shredding import delete_erased_blobs
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.kit.clock import iso, utcnow
from invigil.privacy import requests
from invigil.privacy.models import SubjectRequest
from invigil.sessions import repository as sessions_repo

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
CASE_WORK = (access.Purpose.DECIDE, access.Purpose.MANAGE)


class RequestBody(BaseModel):
    kind: str = Field(description="erasure or restriction")
    note: str = Field(default="", max_length=2000, description="How and when the request came in.")


class ReasonBody(BaseModel):
    reason: str = Field(max_length=2000)


def _out(r: SubjectRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "session_id": r.session_id,
        "kind": r.kind,
        "status": r.status,
        "note": r.note,
        "received_at": iso(r.received_at),
        "decided_at": iso(r.decided_at),
        "reason": r.reason,
    }


def _request(db: Any, staff: Staff, request_id: str) -> SubjectRequest:
    return access.require_for(db, staff, db.get(SubjectRequest, request_id), CASE_WORK, utcnow())


@router.post("/sessions/{session_id}/requests", status_code=201)
def register(
    session_id: str,
    body: RequestBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        session = access.require_for(db, staff, sessions_repo.get(db, session_id), CASE_WORK, now)
        return _out(requests.register(db, session, body.kind, body.note, staff.id, now))


@router.post("/requests/{request_id}/carry-out")
def carry_out(
    request_id: str,
    body: ReasonBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    """Erasure: the session's evidence, records and name are erased. Restriction: in force from now."""
    now = utcnow()
    with c.uow() as db:
        r = _request(db, staff, request_id)
        erased = requests.carry_out(db, r, staff.id, body.reason, now)
        doomed = requests.erased_items(db, r.session_id) if r.kind == "erasure" else []
        out = {**_out(r), "erased": erased}
    delete_erased_blobs(c.store, doomed)
    return out


@router.post("/requests/{request_id}/refuse")
def refuse(
    request_id: str,
    body: ReasonBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    with c.uow() as db:
        r = _request(db, staff, request_id)
        requests.refuse(db, r, staff.id, body.reason, utcnow())
        return _out(r)


@router.post("/requests/{request_id}/lift")
def lift(
    request_id: str,
    body: ReasonBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    with c.uow() as db:
        r = _request(db, staff, request_id)
        requests.lift(db, r, staff.id, body.reason, utcnow())
        return _out(r)


@router.get("/exams/{exam_id}/requests")
def register_of_exam(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), CASE_WORK, utcnow())
        return {"requests": [_out(r) for r in requests.of_exam(db, exam.id)]}
