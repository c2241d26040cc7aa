"""Staff API for exams: create, candidates and codes, assignments, the session board."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from invigil.accounts import repository as accounts_repo
from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Role, Staff
from invigil.container import Container
from invigil.exams import access, repository, service
from invigil.exams.models import Exam
from invigil.http import container
from invigil.institutions.models import Institution
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import Forbidden, NotFound
from invigil.sessions import board

router = APIRouter(prefix="/api/v1/staff/exams", tags=["staff"])


class ExamCreate(BaseModel):
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    region: str | None = None
    policy: dict[str, Any] = Field(default_factory=dict)
    retention: dict[str, Any] = Field(default_factory=dict)


class Person(BaseModel):
    full_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    student_number: str = Field(default="", max_length=64)
    pseudonym: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{3,32}$")


class CandidatesAdd(BaseModel):
    candidates: list[Person] = Field(min_length=1, max_length=5000)


class AssignmentAdd(BaseModel):
    staff_email: str
    role: Role


def exam_summary(exam: Exam) -> dict[str, Any]:
    return {
        "id": exam.id,
        "title": exam.title,
        "starts_at": iso(exam.starts_at),
        "ends_at": iso(exam.ends_at),
        "timezone": exam.timezone,
        "region": exam.region,
        "policy": exam.policy,
        "retention": exam.retention,
    }


@router.get("")
def list_exams(
    staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> list[dict[str, Any]]:
    now = utcnow()
    with c.uow() as db:
        return [exam_summary(e) for e in access.visible_exams(db, staff, now)]


@router.post("", status_code=201)
def create_exam(
    body: ExamCreate, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    if staff.role not in (Role.ADMIN, Role.COORDINATOR):
        raise Forbidden("Only admins and coordinators create exams.")
    with c.uow() as db:
        institution = db.get(Institution, staff.institution_id)
        assert institution is not None
        exam = service.create_exam(
            db,
            institution,
            title=body.title,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            timezone=body.timezone,
            policy=body.policy,
            retention=body.retention,
            region=body.region,
            created_by=staff,
        )
        return exam_summary(exam)


@router.get("/{exam_id}")
def get_exam(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.STATUS, utcnow())
        return exam_summary(exam)


@router.post("/{exam_id}/candidates", status_code=201)
def add_candidates(
    exam_id: str,
    body: CandidatesAdd,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any]:
    """Register candidates and issue codes. The codes are in this response only: print them now."""
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.MANAGE, utcnow())
        people = [p.model_dump(exclude_none=True) for p in body.candidates]
        issued = service.add_candidates(db, exam, people, by=staff.id)
        return {
            "candidates": [
                {
                    "candidate": i.pseudonym,
                    "session_id": i.session_id,
                    "code": i.code,
                    "expires_at": iso(i.expires_at),
                }
                for i in issued
            ]
        }


@router.post("/{exam_id}/assignments", status_code=201)
def add_assignment(
    exam_id: str,
    body: AssignmentAdd,
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, str]:
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.MANAGE, utcnow())
        person = accounts_repo.by_email(db, exam.institution_id, body.staff_email)
        if person is None:
            raise NotFound(f"No staff account for {body.staff_email}.")
        assignment = service.assign(db, exam, person, body.role, by=staff.id)
        return {"id": assignment.id, "role": assignment.role, "staff_id": person.id}


@router.get("/{exam_id}/sessions")
def sessions_board(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Per candidate: state, items and bytes received, last heartbeat, offline periods. Logged."""
    now = utcnow()
    with c.uow() as db:
        exam = repository.get(db, exam_id)
        exam = access.require_logged(db, staff, exam, access.Purpose.STATUS, now, "sessions.list")
        return {"exam": exam_summary(exam), "sessions": board.rows(db, exam.id, now)}
