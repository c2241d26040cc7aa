"""The privacy notice of an exam, for anyone (a candidate reads it before the exam, from the course
page or in the agent before activation), and the institution's privacy settings, for its admins.

The notice names no person and holds nothing about any candidate: it is generated from the exam's
policy, retention and region and the institution's controller details, so it is public.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Role, Staff
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.institutions import service as institutions
from invigil.institutions.models import Institution
from invigil.kit.clock import utcnow
from invigil.kit.errors import Forbidden, NotFound
from invigil.privacy import dpia, notice

router = APIRouter(tags=["privacy"])


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    controller: str = Field(default="", max_length=200, description="The controller's legal name.")
    dpo_contact: str = Field(
        default="", max_length=200, description="How to reach the data protection officer."
    )
    legal_basis: str = Field(
        default="", max_length=500, description="e.g. 'GDPR Art. 6(1)(e) and the university act § 12'."
    )
    complaint_authority: str = Field(
        default="", max_length=300, description="e.g. 'Datatilsynet, dt@datatilsynet.dk'."
    )


def notice_for(c: Container, exam_id: str) -> dict[str, Any]:
    """The notice's facts for an exam (privacy/notice.py); NotFound for an unknown exam."""
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        if exam is None:
            raise NotFound("No such exam.")
        institution = db.get(Institution, exam.institution_id)
        assert institution is not None
        return notice.facts(exam, institution)


@router.get("/api/v1/exams/{exam_id}/privacy-notice", response_model=None)
def privacy_notice(
    exam_id: str,
    request: Request,
    lang: str | None = None,
    format: str = "json",
    c: Container = Depends(container),
) -> dict[str, Any] | Response:
    """The exam's privacy notice in English, Danish, German or Swedish (``lang``, else the browser's)."""
    rendered = notice.render(notice_for(c, exam_id), lang or request.headers.get("accept-language", "en"))
    if format == "markdown":
        return PlainTextResponse(notice.markdown(rendered), media_type="text/markdown; charset=utf-8")
    return rendered


@router.get("/api/v1/staff/exams/{exam_id}/dpia", response_model=None)
def exam_dpia(
    exam_id: str,
    format: str = "markdown",
    staff: Staff = Depends(current_staff),
    c: Container = Depends(container),
) -> dict[str, Any] | Response:
    """A draft DPIA (GDPR Art. 35) for the exam: ``markdown`` (default), ``pdf`` or ``json``. For those
    who manage the exam (admins, coordinators); it holds nothing about any candidate."""
    now = utcnow()
    with c.uow() as db:
        exam = access.require(db, staff, exams_repo.get(db, exam_id), access.Purpose.MANAGE, now)
        institution = db.get(Institution, exam.institution_id)
        assert institution is not None
        doc = dpia.build(exam, institution, now)
    if format == "pdf":
        name = f"dpia-{exam_id}.pdf"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(dpia.pdf(doc), media_type="application/pdf", headers=headers)
    if format == "json":
        return doc
    return PlainTextResponse(dpia.markdown(doc), media_type="text/markdown; charset=utf-8")


@router.get("/api/v1/staff/institution/privacy")
def get_privacy_settings(
    staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> PrivacySettings:
    with c.uow() as db:
        institution = db.get(Institution, staff.institution_id)
        assert institution is not None
        return PrivacySettings(**(institution.privacy or {}), dpo_contact=institution.dpo_contact)


@router.put("/api/v1/staff/institution/privacy")
def put_privacy_settings(
    body: PrivacySettings, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> PrivacySettings:
    """What every exam's privacy notice and DPIA say about the controller (admins only)."""
    if staff.role != Role.ADMIN:
        raise Forbidden("Only administrators change the institution's privacy settings.")
    now = utcnow()
    with c.uow() as db:
        institution = db.get(Institution, staff.institution_id)
        assert institution is not None
        institutions.update_privacy(db, institution, body.model_dump(), by=staff.id, now=now)
    return body
