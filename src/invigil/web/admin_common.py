"""What every administration page shares: who may open it, reading its forms, domain errors as
messages next to the form. The rules themselves stay in the domain services the staff API calls."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session

from invigil.accounts.models import Role, Staff
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.exams.models import Exam
from invigil.institutions.models import Institution
from invigil.kit.clock import utcnow
from invigil.kit.errors import Forbidden
from invigil.web import browser
from invigil.web.browser import Browser, PageRefused

OFFICE = (Role.ADMIN.value, Role.COORDINATOR.value)
# Who handles an exam's cases (legal holds, data-subject requests): the office and its reviewers, as
# the staff API (retention/endpoints.py, privacy/request_endpoints.py).
CASE_WORK = (access.Purpose.DECIDE, access.Purpose.MANAGE)
MAX_FORM_BYTES = 64 * 1024
MAX_FIELDS = 200


def require_office(c: Container, request: Request, admin_only: bool = False) -> Browser:
    """A complete login as an admin (or, unless ``admin_only``, a coordinator); else the refused page."""
    who = browser.require(c, request)
    allowed = (Role.ADMIN.value,) if admin_only else OFFICE
    if who.role not in allowed:
        raise PageRefused(
            403,
            "Not for your role",
            "Only administrators manage staff accounts and the institution's settings."
            if admin_only
            else "Only the exam office (coordinators and administrators) prepares exams.",
        )
    return who


def require_roles(c: Container, request: Request, roles: tuple[str, ...], message: str) -> Browser:
    """A complete login in one of ``roles``; else the refused page saying ``message``. Whether the
    person may use a given exam is checked afterwards with ``exam_for``."""
    who = browser.require(c, request)
    if who.role not in roles:
        raise PageRefused(403, "Not for your role", message)
    return who


def too_large(limit: int) -> PageRefused:
    return PageRefused(
        413, "Too large", f"What you sent is larger than {limit // 1024} KiB. Split it and try again."
    )


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, list[str]]:
    """Every value of each field of a urlencoded form; a body over ``limit`` is refused (413) before
    it is read whole."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS)


def first(form: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in form.items()}


async def checked_form(request: Request, who: Browser, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """The form's fields (first values), after the CSRF check."""
    form = first(await read_form(request, limit))
    browser.check_csrf(request, who.csrf_token, form)
    return form


def staff_row(db: Session, who: Browser) -> Staff:
    staff = db.get(Staff, who.staff_id)
    assert staff is not None
    return staff


def institution_of(db: Session, who: Browser) -> Institution:
    staff = staff_row(db, who)
    institution = db.get(Institution, staff.institution_id)
    assert institution is not None
    return institution


def exam_to_manage(db: Session, who: Browser, exam_id: str) -> Exam:
    """The exam, if this person may manage it (exams/access.py, as the API); else the refused page."""
    return exam_for(db, who, exam_id, access.Purpose.MANAGE)


def exam_for(
    db: Session, who: Browser, exam_id: str, purpose: access.Purpose | tuple[access.Purpose, ...]
) -> Exam:
    """The exam, if this person may use it for ``purpose`` (exams/access.py, as the API); else the
    refused page."""
    try:
        return access.require(db, staff_row(db, who), exams_repo.get(db, exam_id), purpose, utcnow())
    except Forbidden as exc:
        raise PageRefused(403, "No access", exc.message) from exc


def local(when: datetime | None, tz: str) -> str:
    """A time as the exam's own clock shows it."""
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
