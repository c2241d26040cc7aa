"""Staff API for legal holds and deletion certificates.

Holds: the exam's reviewers (who work the cases), and its coordinators and admins. A hold names a
reason (a case number, a complaint) and is released, never deleted. Certificates hold counts and
times only, so the exam office may read them too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.kit.clock import iso, utcnow
from invigil.retention import certificate, holds
from invigil.retention.models import LegalHold
from invigil.sessions import repository as sessions_repo

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
CASE_WORK = (access.Purpose.DECIDE, access.Purpose.MANAGE)


class HoldBody(BaseModel):
    reason: str = Field(max_length=2000, description="Why the data must be kept: a case number, a complaint.")
    session_id: str | None = Field(default=None, description="One candidate's session; none: the whole exam.")


def _hold(h: LegalHold) -> dict[str, Any]:
    return {
        "id": h.id,
        "session_id": h.session_id,
        "reason": h.reason,
        "placed_by": h.placed_by,
        "placed_at": iso(h.placed_at),
        "released_by": h.released_by,
        "released_at": iso(h.released_at),
    }


@router.post("/exams/{exam_id}/holds", status_code=201)
def place_hold(
    exam_id: str, body: HoldBody, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), CASE_WORK, now)
        if body.session_id is not None:
            access.check_in_exam(sessions_repo.get(db, body.session_id), exam)
        return _hold(holds.place(db, exam.id, body.session_id, staff.id, body.reason, now))


@router.get("/exams/{exam_id}/holds")
def list_holds(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), CASE_WORK, now)
        return {"holds": [_hold(h) for h in holds.of_exam(db, exam.id)]}


@router.post("/holds/{hold_id}/release")
def release_hold(
    hold_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        hold = access.require_for(db, staff, db.get(LegalHold, hold_id), CASE_WORK, now)
        return _hold(holds.release(db, hold, staff.id, now))


@router.get("/exams/{exam_id}/deletion-certificate", response_model=None)
def deletion_certificate(
    exam_id: str,
    format: str = "json",
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any] | Response:
    """What each data category of the exam became: due, destroyed (when, how much), or why kept."""
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), CASE_WORK, now)
        cert = certificate.build(db, exam, c.signer, now)
    if format == "markdown":
        return PlainTextResponse(certificate.markdown(cert), media_type="text/markdown; charset=utf-8")
    return cert
