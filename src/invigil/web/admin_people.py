"""Administration pages of one exam: candidates (CSV import), activation codes (code sheet, CSV,
reissue), the sealed assignment, staff access and key grants (retention and privacy: admin_privacy.py).

Every rule is the domain's (exams/service.py, exams/roster.py, exams/keys.py): these handlers read
forms, check CSRF and the role, and render what the service answers. Key grants are sealed in the
holder's browser (static/grants.js) and stored through the staff API, never by these handlers.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from invigil.accounts import repository as accounts_repo
from invigil.accounts.models import Role, Staff
from invigil.assignments import repository as assignments_repo
from invigil.audit import service as audit
from invigil.container import Container
from invigil.exams import access, keys, roster, service
from invigil.exams import repository as exams_repo
from invigil.exams.models import Exam
from invigil.http import container
from invigil.institutions.models import Institution
from invigil.kit import pinseal
from invigil.kit.clock import utcnow
from invigil.kit.errors import DomainError, Invalid
from invigil.web import browser, security, templating
from invigil.web.admin_common import (
    OFFICE,
    checked_form,
    exam_for,
    exam_to_manage,
    first,
    local,
    read_form,
    require_office,
    require_roles,
    staff_row,
)
from invigil.web.browser import Browser

router = APIRouter(include_in_schema=False)
# A CSV of 1 MiB may triple when the browser urlencodes it.
IMPORT_LIMIT = 3 * roster.MAX_BYTES + 64 * 1024


def exam_view(exam: Exam) -> dict[str, Any]:
    return {
        "id": exam.id,
        "title": exam.title,
        "timezone": exam.timezone,
        "starts": local(exam.starts_at, exam.timezone),
        "ends": local(exam.ends_at, exam.timezone),
    }


# -- candidates -------------------------------------------------------------------------------------
def _candidates_page(
    c: Container,
    who: Browser,
    exam_id: str,
    *,
    status: int = 200,
    error: str = "",
    problems: list[tuple[int, str]] | None = None,
    text: str = "",
    saved: str = "",
) -> HTMLResponse:
    now = utcnow()
    with c.uow() as db:
        exam = exam_to_manage(db, who, exam_id)
        rows = [
            {
                "session_id": s.id,
                "pseudonym": cand.pseudonym,
                "name": ident.full_name if ident else "",
                "student_number": ident.student_number if ident else "",
                "state": s.state,
                "code_used": s.code_used_at is not None,
                "code_expires": local(s.code_expires_at, exam.timezone),
            }
            for cand, ident, s in exams_repo.roster(db, exam.id)
        ]
        if rows:  # names are candidate data: the read is in the access log
            audit.record(
                db,
                actor_kind="staff",
                actor_id=who.staff_id,
                action="candidates.list",
                at=now,
                exam_id=exam.id,
            )
        view = exam_view(exam)
    return templating.render(
        "admin_candidates.html",
        status=status,
        who=who,
        exam=view,
        rows=rows,
        error=error,
        problems=problems or [],
        text=text,
        saved=saved,
        columns=list(roster.COLUMNS),
        max_kib=roster.MAX_BYTES // 1024,
        max_rows=roster.MAX_ROWS,
    )


@router.get("/admin/exams/{exam_id}/candidates")
def candidates_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    return _candidates_page(c, require_office(c, request), exam_id)


def _codes_response(
    who: Browser, exam: dict[str, Any], issued: list[dict[str, str]], fmt: str, request: Request
) -> Response:
    """The new codes, once: a printable sheet or a CSV file. Only their hashes are stored."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["pseudonym", "full_name", "student_number", "code", "expires_at"])
        for i in issued:
            writer.writerow([i["pseudonym"], i["name"], i["student_number"], i["code"], i["expires_at"]])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={
                **security.headers(),
                "Content-Disposition": f'attachment; filename="codes-{exam["id"]}.csv"',
            },
        )
    base = str(request.base_url).rstrip("/")
    return templating.render("admin_codes.html", who=who, exam=exam, issued=issued, base=base)


@router.post("/admin/exams/{exam_id}/candidates")
async def import_candidates(exam_id: str, request: Request, c: Container = Depends(container)) -> Response:
    who = require_office(c, request)
    form = first(await read_form(request, IMPORT_LIMIT))
    browser.check_csrf(request, who.csrf_token, form)
    text = form.get("csv", "")
    try:
        with c.uow() as db:
            exam = exam_to_manage(db, who, exam_id)
            people = roster.parse(text, exams_repo.pseudonyms(db, exam.id))
            fresh = service.add_candidates(db, exam, people, by=who.staff_id)
            issued = [
                {
                    "pseudonym": i.pseudonym,
                    "name": p.get("full_name", ""),
                    "student_number": p.get("student_number", ""),
                    "code": i.code,
                    "expires_at": local(i.expires_at, exam.timezone),
                }
                for i, p in zip(fresh, people, strict=True)
            ]
            view = exam_view(exam)
    except roster.RosterInvalid as exc:
        return _candidates_page(
            c, who, exam_id, status=422, error=exc.message, problems=exc.problems, text=text
        )
    except DomainError as exc:
        return _candidates_page(c, who, exam_id, status=exc.status, error=exc.message, text=text)
    return _codes_response(who, view, issued, form.get("format", "sheet"), request)


@router.post("/admin/exams/{exam_id}/codes")
async def reissue_codes(exam_id: str, request: Request, c: Container = Depends(container)) -> Response:
    """New codes for one candidate (a lost letter) or for everyone who has not activated yet; the old
    codes stop working. Each reissue is in the access log (code.reissue)."""
    who = require_office(c, request)
    form = await checked_form(request, who)
    wanted = form.get("session_id", "")
    try:
        with c.uow() as db:
            exam = exam_to_manage(db, who, exam_id)
            issued = []
            for cand, ident, s in exams_repo.roster(db, exam.id):
                if (wanted and s.id != wanted) or (not wanted and s.code_used_at is not None):
                    continue
                code = service.reissue_code(db, s, by=who.staff_id)
                issued.append(
                    {
                        "pseudonym": cand.pseudonym,
                        "name": ident.full_name if ident else "",
                        "student_number": ident.student_number if ident else "",
                        "code": code,
                        "expires_at": local(s.code_expires_at, exam.timezone),
                    }
                )
            if not issued:
                raise Invalid("No candidate is waiting for a code: everyone has activated already.")
            view = exam_view(exam)
    except DomainError as exc:
        return _candidates_page(c, who, exam_id, status=exc.status, error=exc.message)
    return _codes_response(who, view, issued, form.get("format", "sheet"), request)


# -- the sealed assignment --------------------------------------------------------------------------
@router.get("/admin/exams/{exam_id}/assignment")
def assignment_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    now = utcnow()
    with c.uow() as db:
        exam = exam_to_manage(db, who, exam_id)
        current = assignments_repo.set_for_exam(db, exam.id)
        info = None
        if current is not None:
            uploader = db.get(Staff, current.uploaded_by) if current.uploaded_by else None
            deliveries = assignments_repo.deliveries(db, exam.id)
            info = {
                "version": current.version,
                "digest": current.digest,
                "uploaded": local(current.uploaded_at, exam.timezone),
                "by": uploader.email if uploader else "",
                "files": [
                    {"name": f.name, "size": f.plain_size, "sha256": f.sha256}
                    for f in assignments_repo.files(db, current.id)
                ],
                "received": len(deliveries),
                "opened": sum(1 for d in deliveries.values() if d.opened_at is not None),
            }
        view = {**exam_view(exam), "started": now >= exam.starts_at}
        slug = db.get(Institution, exam.institution_id).slug  # type: ignore[union-attr]  # exams have one
    kdf = pinseal.default_params()
    return templating.render(
        "admin_assignment.html",
        who=who,
        exam=view,
        info=info,
        server=str(request.base_url).rstrip("/"),
        slug=slug,
        kdf=kdf.as_dict(),
        kdf_memory=f"{kdf.memory_kib // 1024} MiB" if kdf.memory_kib >= 1024 else f"{kdf.memory_kib} KiB",
        max_bytes=c.settings.max_request_bytes,
    )


# -- staff access and key grants --------------------------------------------------------------------
# The page shows who waits for the exam's keys to the office and to the people who can pass the keys
# on (its reviewers, its invigilators in the window: whoever GET /grants/pending answers). Only a
# holder's browser can seal the copies (web/static/grants.js); assigning and removing is the office's.
GRANTERS = (*OFFICE, Role.INVIGILATOR.value, Role.REVIEWER.value)
ACCESS_PAGE = (access.Purpose.MANAGE, access.Purpose.EVIDENCE)


def _access_page(
    c: Container, who: Browser, exam_id: str, status: int = 200, error: str = "", saved: str = ""
) -> HTMLResponse:
    now = utcnow()
    with c.uow() as db:
        exam = exam_for(db, who, exam_id, ACCESS_PAGE)
        pending = {r.staff_id: len(r.missing) for r in keys.pending_grants(db, exam, now)}
        assigned = [
            {
                "staff_id": person.id,
                "name": person.display_name,
                "email": person.email,
                "role": a.role,
                "has_key": keys.staff_key(db, person.id) is not None,
                "pending": pending.get(person.id, 0),
                "holds": bool(
                    (k := keys.staff_key(db, person.id)) and exams_repo.grants_of(db, exam.id, k.kid)
                ),
            }
            for a, person in exams_repo.assignments_of(db, exam.id)
        ]
        taken = {(p["staff_id"], p["role"]) for p in assigned}
        candidates = [
            {"id": s.id, "label": f"{s.display_name} ({s.email}) — {s.role}"}
            for s in accounts_repo.of_institution(db, exam.institution_id)
            if s.is_active
            and s.role in (Role.INVIGILATOR.value, Role.REVIEWER.value)
            and (s.id, s.role) not in taken
        ]
        mine = keys.staff_key(db, who.staff_id)
        # The API's rule for POST /grants: someone who may read the evidence and holds copies.
        may_grant = bool(
            mine
            and access.allowed(db, staff_row(db, who), exam, access.Purpose.EVIDENCE, now)
            and exams_repo.grants_of(db, exam.id, mine.kid)
        )
        view = {**exam_view(exam), "in_use": keys.keys_in_use(db, exam.id)}
        slug = db.get(Institution, exam.institution_id).slug  # type: ignore[union-attr]  # exams have one
    return templating.render(
        "admin_access.html",
        status=status,
        who=who,
        exam=view,
        office=who.role in OFFICE,
        assigned=assigned,
        candidates=candidates,
        pending=sum(1 for p in assigned if p["pending"]),
        holders=[p for p in assigned if p["holds"]],
        may_grant=may_grant,
        kid=mine.kid if mine else None,
        idle_ms=c.settings.web_session_idle_seconds * 1000,
        error=error,
        saved=saved,
        slug=slug,
    )


@router.get("/admin/exams/{exam_id}/access")
def access_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_roles(
        c, request, GRANTERS, "Only the exam office and the people who hold an exam's keys see its staff."
    )
    return _access_page(c, who, exam_id)


@router.post("/admin/exams/{exam_id}/access")
async def assign(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    form = await checked_form(request, who)
    try:
        with c.uow() as db:
            exam = exam_to_manage(db, who, exam_id)
            person = db.get(Staff, form.get("staff_id", ""))
            if person is None or person.institution_id != exam.institution_id or not person.is_active:
                raise Invalid("Choose a person from the list.")
            if person.role not in (Role.INVIGILATOR.value, Role.REVIEWER.value):
                raise Invalid(
                    f"{person.email} is a {person.role}: only invigilators and reviewers are assigned."
                )
            service.assign(db, exam, person, Role(person.role), by=who.staff_id)
            done = f"{person.email} is now a {person.role} of this exam."
    except DomainError as exc:
        return _access_page(c, who, exam_id, exc.status, exc.message)
    return _access_page(c, who, exam_id, saved=done)


@router.post("/admin/exams/{exam_id}/access/{staff_id}/revoke")
async def revoke(
    exam_id: str, staff_id: str, request: Request, c: Container = Depends(container)
) -> HTMLResponse:
    """As ``DELETE /api/v1/staff/exams/{id}/access/{staff}``: assignment and key copies deleted, keys
    rotated."""
    who = require_office(c, request)
    await checked_form(request, who)
    try:
        with c.uow() as db:
            exam = exam_to_manage(db, who, exam_id)
            person = db.get(Staff, staff_id)
            if person is None or person.institution_id != exam.institution_id:
                raise Invalid("No such staff member.")
            institution = db.get(Institution, exam.institution_id)
            assert institution is not None
            keys.revoke(db, exam, institution, person, actor_id=who.staff_id, now=utcnow())
            done = f"{person.email} no longer has access to this exam; its keys were rotated."
    except DomainError as exc:
        return _access_page(c, who, exam_id, exc.status, exc.message)
    return _access_page(c, who, exam_id, saved=done)
