"""Staff API for key custody of one exam: my sealed copies, pending grants, grant, revoke.

The server hands out only sealed copies and public keys; opening and sealing happen on the
person's side (browser module web/static/invigil-crypto.js, or the CLI).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.audit import service as audit
from invigil.container import Container
from invigil.exams import access, keys, repository
from invigil.exams.models import ExamKey
from invigil.http import container
from invigil.institutions.models import Institution
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import Forbidden, NotFound

router = APIRouter(prefix="/api/v1/staff/exams", tags=["staff", "keys"])


class GrantBody(BaseModel):
    staff_id: str = Field(max_length=32)
    copies: dict[str, str] = Field(
        min_length=1, max_length=200, description="Exam key id -> that key sealed to the grantee (base64)."
    )


@router.get("/{exam_id}/keys")
def my_copies(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """The exam's keys and, for each, your sealed copy if you hold one."""
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.EVIDENCE, now)
        mine = keys.staff_key(db, staff.id)
        copies = (
            {g.exam_kid: g.sealed_private_key for g in repository.grants_of(db, exam.id, mine.kid)}
            if mine
            else {}
        )
        audit.record(db, actor_kind="staff", actor_id=staff.id, action="key.fetch", at=now, exam_id=exam.id)
        return {
            "exam_id": exam.id,
            "keys": [_describe(k, copies.get(k.kid)) for k in repository.live_keys(db, exam.id)],
        }


def _describe(key: ExamKey, sealed: str | None) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "category": key.category,
        "generation": key.generation,
        "public_key": key.public_key,
        "retired_at": iso(key.retired_at) if key.retired_at else None,
        "sealed": sealed,
    }


@router.get("/{exam_id}/grants/pending")
def pending(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """People assigned to the exam who still need copies of its keys, with their public keys."""
    now = utcnow()
    with c.uow() as db:
        purposes = (access.Purpose.EVIDENCE, access.Purpose.MANAGE)
        exam = access.require(db, staff, repository.get(db, exam_id), purposes, now)
        return {
            "exam_id": exam.id,
            "pending": [
                {
                    "staff_id": r.staff_id,
                    "holder_kid": r.holder_kid,
                    "public_key": r.holder_public_key,
                    "missing": r.missing,
                }
                for r in keys.pending_grants(db, exam, now)
            ],
        }


@router.post("/{exam_id}/grants", status_code=201)
def grant(
    exam_id: str, body: GrantBody, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Store copies of the exam's keys that you sealed to another person. Only a holder can do this."""
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.EVIDENCE, now)
        mine = keys.staff_key(db, staff.id)
        if mine is None or not repository.grants_of(db, exam.id, mine.kid):
            raise Forbidden("Only someone who holds this exam's keys can pass them on.")
        grantee = db.get(Staff, body.staff_id)
        if grantee is None:
            raise NotFound("No such staff member.")
        stored = keys.grant(db, exam, grantee, body.copies, actor_kind="staff", actor_id=staff.id, now=now)
        return {"exam_id": exam.id, "staff_id": grantee.id, "copies": stored}


@router.delete("/{exam_id}/access/{staff_id}")
def revoke(
    exam_id: str, staff_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Remove a person from the exam: assignment and key copies deleted, the exam's keys rotated."""
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, repository.get(db, exam_id), access.Purpose.MANAGE, now)
        person = db.get(Staff, staff_id)
        if person is None or person.institution_id != exam.institution_id:
            raise NotFound("No such staff member.")
        institution = db.get(Institution, exam.institution_id)
        assert institution is not None
        generation = keys.revoke(db, exam, institution, person, actor_id=staff.id, now=now)
        return {"exam_id": exam.id, "revoked": person.id, "key_generation": generation}
