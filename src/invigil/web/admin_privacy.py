"""Administration page of one exam's retention and privacy: legal holds, data-subject requests
(register, carry out, refuse, lift), the privacy notice preview and links to the DPIA and deletion
certificate.

Who: the exam office and the exam's reviewers, as the staff API (retention/endpoints.py,
privacy/request_endpoints.py: DECIDE or MANAGE). Every rule is the domain's (retention/holds.py,
privacy/requests.py): these handlers read forms, check CSRF and the role, and call the same service
functions the API calls.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from invigil.accounts import repository as accounts_repo
from invigil.accounts.models import Role
from invigil.container import Container
from invigil.evidence.models import EvidenceItem
from invigil.evidence.shredding import delete_erased_blobs
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.institutions.models import Institution
from invigil.kit import reasons
from invigil.kit.clock import utcnow
from invigil.kit.errors import DomainError, Invalid
from invigil.privacy import notice, requests
from invigil.privacy.models import SubjectRequest
from invigil.privacy.texts import LANGUAGES
from invigil.retention import holds
from invigil.retention.models import LegalHold
from invigil.sessions import repository as sessions_repo
from invigil.web import templating
from invigil.web.admin_common import (
    CASE_WORK,
    OFFICE,
    checked_form,
    exam_for,
    exam_to_manage,
    local,
    require_office,
    require_roles,
)
from invigil.web.admin_people import exam_view
from invigil.web.browser import Browser, PageRefused

router = APIRouter(include_in_schema=False)


# -- retention and privacy --------------------------------------------------------------------------
def _when(value: datetime | None, tz: str) -> str:
    return local(value, tz) if value else ""


CASE_WORKERS = (*OFFICE, Role.REVIEWER.value)


def _case_worker(c: Container, request: Request) -> Browser:
    """The exam office, or a reviewer (of this exam: ``exam_for(…, CASE_WORK)`` checks that)."""
    return require_roles(
        c,
        request,
        CASE_WORKERS,
        "Legal holds and candidates' data requests are handled by the exam office and the exam's reviewers.",
    )


def _privacy_page(
    c: Container,
    who: Browser,
    exam_id: str,
    status: int = 200,
    error: str = "",
    saved: str = "",
    reason: str = "",
    retry: dict[str, str] | None = None,
) -> HTMLResponse:
    with c.uow() as db:
        exam = exam_for(db, who, exam_id, CASE_WORK)
        tz = exam.timezone
        pseudonym = {s.id: cand.pseudonym for cand, _i, s in exams_repo.roster(db, exam.id)}
        names = {s.id: s.email for s in accounts_repo.of_institution(db, exam.institution_id)}
        hold_rows = [
            {
                "id": h.id,
                "scope": pseudonym.get(h.session_id or "", "the whole exam")
                if h.session_id
                else "the whole exam",
                "reason": h.reason,
                "placed": f"{_when(h.placed_at, tz)} by {names.get(h.placed_by, h.placed_by)}",
                "released": f"{_when(h.released_at, tz)} by {names.get(h.released_by or '', '')}"
                if h.released_at
                else "",
            }
            for h in holds.of_exam(db, exam.id)
        ]
        request_rows = [
            {
                "id": r.id,
                "candidate": pseudonym.get(r.session_id, r.session_id),
                "note": r.note,
                "kind": r.kind,
                "status": r.status,
                "received": _when(r.received_at, tz),
                "decided": _when(r.decided_at, tz),
                "reason": r.reason,
            }
            for r in requests.of_exam(db, exam.id)
        ]
        sessions = sorted(pseudonym.items(), key=lambda kv: kv[1])
        view = exam_view(exam)
    return templating.render(
        "admin_privacy.html",
        status=status,
        who=who,
        exam=view,
        office=who.role in OFFICE,
        holds=hold_rows,
        requests=request_rows,
        kinds=requests.KINDS,
        erasure_warning=ERASURE_WARNING,
        retry=retry or {},
        sessions=sessions,
        error=error,
        saved=saved,
        reason=reason,
        min_reason=reasons.MIN_REASON,
        languages=LANGUAGES,
    )


@router.get("/admin/exams/{exam_id}/privacy")
def privacy_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    return _privacy_page(c, _case_worker(c, request), exam_id)


@router.post("/admin/exams/{exam_id}/holds")
async def place_hold(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = _case_worker(c, request)
    form = await checked_form(request, who)
    reason, session_id = form.get("reason", ""), form.get("session_id") or None
    try:
        with c.uow() as db:
            exam = exam_for(db, who, exam_id, CASE_WORK)
            if session_id is not None:
                session = sessions_repo.get(db, session_id)
                if session is None or session.exam_id != exam.id:
                    raise Invalid("That candidate is not in this exam.")
            holds.place(db, exam.id, session_id, who.staff_id, reason, utcnow())
    except DomainError as exc:
        return _privacy_page(c, who, exam_id, exc.status, exc.message, reason=reason)
    return _privacy_page(
        c, who, exam_id, saved="The legal hold is in place: the data it covers is kept until you release it."
    )


@router.post("/admin/exams/{exam_id}/holds/{hold_id}/release")
async def release_hold(
    exam_id: str, hold_id: str, request: Request, c: Container = Depends(container)
) -> HTMLResponse:
    who = _case_worker(c, request)
    await checked_form(request, who)
    try:
        with c.uow() as db:
            exam = exam_for(db, who, exam_id, CASE_WORK)
            hold = db.get(LegalHold, hold_id)
            if hold is None or hold.exam_id != exam.id:
                raise Invalid("No such hold on this exam.")
            holds.release(db, hold, who.staff_id, utcnow())
    except DomainError as exc:
        return _privacy_page(c, who, exam_id, exc.status, exc.message)
    return _privacy_page(
        c,
        who,
        exam_id,
        saved="The hold was released: data past its retention period is destroyed at the next sweep.",
    )


# Data-subject requests: the same service calls as POST /api/v1/staff/requests/{id}/carry-out|refuse|lift.
ERASURE_WARNING = "This deletes the candidate's evidence and name; it cannot be undone."
CARRIED_OUT = {
    "erasure": "The candidate's data was erased ({erased}). The register keeps the pseudonym and your "
    "reason as proof.",
    "restriction": "The restriction is in force: nobody can read or analyse this candidate's data "
    "until it is lifted.",
}
DONE = {
    "carry-out": "",  # CARRIED_OUT, by kind
    "refuse": "The request was refused; the register shows your reason.",
    "lift": "The restriction was lifted: this candidate's data can be read and analysed again.",
}


@router.post("/admin/exams/{exam_id}/requests")
async def register_request(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = _case_worker(c, request)
    form = await checked_form(request, who)
    try:
        with c.uow() as db:
            exam = exam_for(db, who, exam_id, CASE_WORK)
            session = sessions_repo.get(db, form.get("session_id", ""))
            access.check_in_exam(session, exam)
            assert session is not None
            requests.register(db, session, form.get("kind", ""), form.get("note", ""), who.staff_id, utcnow())
    except DomainError as exc:
        return _privacy_page(c, who, exam_id, exc.status, exc.message)
    return _privacy_page(c, who, exam_id, saved="The request is registered: decide it below.")


@router.post("/admin/exams/{exam_id}/requests/{request_id}/{action}")
async def decide_request(
    exam_id: str, request_id: str, action: str, request: Request, c: Container = Depends(container)
) -> HTMLResponse:
    """Carry out, refuse or lift a request, with a reason; an erasure also needs its confirmation box."""
    who = _case_worker(c, request)
    if action not in DONE:
        raise PageRefused(404, "Not found", "There is no such action on a request.")
    form = await checked_form(request, who)
    reason, now = form.get("reason", ""), utcnow()
    doomed: list[EvidenceItem] = []
    try:
        with c.uow() as db:
            exam = exam_for(db, who, exam_id, CASE_WORK)
            r = db.get(SubjectRequest, request_id)
            if r is None or r.exam_id != exam.id:
                raise Invalid("No such request for this exam.")
            if action == "carry-out":
                if r.kind == "erasure" and form.get("confirm") != "yes":
                    raise Invalid(f"Tick the box to confirm the erasure. {ERASURE_WARNING}")
                erased = requests.carry_out(db, r, who.staff_id, reason, now)
                doomed = requests.erased_items(db, r.session_id) if r.kind == "erasure" else []
                counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in erased.items())
                done = CARRIED_OUT[r.kind].format(erased=counts or "nothing was stored")
            elif action == "refuse":
                requests.refuse(db, r, who.staff_id, reason, now)
                done = DONE[action]
            else:
                requests.lift(db, r, who.staff_id, reason, now)
                done = DONE[action]
    except DomainError as exc:
        retry = {"id": request_id, "action": action, "reason": reason}
        return _privacy_page(c, who, exam_id, exc.status, exc.message, retry=retry)
    delete_erased_blobs(c.store, doomed)  # after the commit, as the API does
    return _privacy_page(c, who, exam_id, saved=done)


@router.get("/admin/exams/{exam_id}/notice")
def notice_preview(
    exam_id: str, request: Request, lang: str = "en", c: Container = Depends(container)
) -> HTMLResponse:
    """The privacy notice candidates will read, as generated from this exam's settings."""
    who = require_office(c, request)
    with c.uow() as db:
        exam = exam_to_manage(db, who, exam_id)
        institution = db.get(Institution, exam.institution_id)
        assert institution is not None
        rendered = notice.render(notice.facts(exam, institution), lang)
        view = exam_view(exam)
    return templating.render(
        "admin_notice.html",
        who=who,
        exam=view,
        notice=rendered,
        languages=LANGUAGES,
    )
