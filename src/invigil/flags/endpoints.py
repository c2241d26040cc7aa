"""Staff API for flags and their rules. Reads go through exams/access.py and are logged.

- flags and the cohort: reviewers of the exam; invigilators of the exam during its window.
  Admins and coordinators see no flags (they see no evidence); examiners see nothing.
- rules: coordinators and admins edit an exam's; admins edit the institution's defaults.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Role, Staff
from invigil.analysis import rules as rulebook
from invigil.analysis.base import BEHAVIOURS
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.flags import reports, service
from invigil.http import container
from invigil.kit.clock import utcnow
from invigil.kit.errors import Forbidden
from invigil.privacy import requests as subject_requests
from invigil.sessions import repository as sessions_repo

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class RulesBody(BaseModel):
    rules: dict[str, Any] = Field(
        description='Changes over the defaults, by behaviour, e.g. {"focus.left": {"severity": "red"}}. '
        "Settings: enabled, threshold (0..1), min_duration_seconds, severity (green, yellow, red), "
        "gap_seconds."
    )


def _catalogue() -> dict[str, dict[str, str]]:
    return {b: {"means": means, "uses": uses} for b, (means, uses) in BEHAVIOURS.items()}


@router.get("/sessions/{session_id}/flags")
def session_flags(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        session = sessions_repo.get(db, session_id)
        if session is None:
            raise Forbidden(access.NO_ACCESS)
        exam = exams_repo.get(db, session.exam_id)
        access.require_logged(db, staff, exam, access.Purpose.EVIDENCE, now, "flags.read", session.id)
        subject_requests.check_not_restricted(db, session.id)
        return reports.session_flags(db, session.id)


@router.get("/exams/{exam_id}/flags")
def exam_flags(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        exam = access.require_logged(db, staff, exam, access.Purpose.EVIDENCE, now, "flags.list")
        return reports.exam_flags(db, exam)


@router.get("/exams/{exam_id}/cohort")
def exam_cohort(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Start time, time to hand-in, flags and timeline per candidate, against this exam's distribution."""
    now = utcnow()
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        exam = access.require_logged(db, staff, exam, access.Purpose.EVIDENCE, now, "cohort.read")
        return reports.exam_cohort(db, exam)


@router.get("/exams/{exam_id}/flag-rules")
def get_exam_rules(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        purposes = (access.Purpose.MANAGE, access.Purpose.EVIDENCE)
        exam = access.require(db, staff, exams_repo.get(db, exam_id), purposes, now)
        return {
            "exam_id": exam.id,
            "rules": rulebook.dump_rules(service.exam_rules(db, exam)),
            "behaviours": _catalogue(),
        }


@router.put("/exams/{exam_id}/flag-rules")
def put_exam_rules(
    exam_id: str,
    body: RulesBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        if not exam or not access.allowed(db, staff, exam, access.Purpose.MANAGE, now):
            raise Forbidden("Only the exam's coordinators and admins can change its flag rules.")
        parsed = service.set_exam_rules(db, exam, body.rules, staff.id, now)
        return {"exam_id": exam.id, "rules": rulebook.dump_rules(parsed)}


@router.get("/flag-rules")
def get_institution_rules(
    staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    if staff.role not in (Role.ADMIN, Role.COORDINATOR):
        raise Forbidden("Only admins and coordinators see the institution's flag rules.")
    with c.uow() as db:
        return {
            "rules": rulebook.dump_rules(service.institution_rules(db, staff.institution_id)),
            "behaviours": _catalogue(),
        }


@router.put("/flag-rules")
def put_institution_rules(
    body: RulesBody,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    if staff.role != Role.ADMIN:
        raise Forbidden("Only admins can change the institution's default flag rules.")
    with c.uow() as db:
        parsed = service.set_institution_rules(db, staff.institution_id, body.rules, staff.id, utcnow())
        return {"rules": rulebook.dump_rules(parsed)}
