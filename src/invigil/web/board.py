"""The invigilator's live board: a page shell per exam (issue 5, ADR 0015).

The page itself holds no candidate data. Its module (static/board.js) reads the live rows from the
staff API's server-sent events (``exams/board_stream.py``) and, for a candidate opened in the side
panel, their flags, last pictures and incident notes from the same JSON API, with the login cookie
and the CSRF header. Who may see what is decided in ``exams/access.py`` alone; this module only
turns a "no" into a page a person understands, and tells the module which parts to show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from invigil.accounts.models import Role, Staff, StaffKey
from invigil.analysis.base import BEHAVIOURS
from invigil.container import Container
from invigil.exams import access, repository
from invigil.exams.models import Exam
from invigil.http import container
from invigil.kit.clock import utcnow
from invigil.protocol.policy import parse_policy
from invigil.web import browser, security, templating
from invigil.web.browser import Browser, PageRefused

router = APIRouter(include_in_schema=False)

NOT_YOURS = (
    "This exam's board is not open to you: you are not assigned to it, or it does not exist. "
    "If you should be watching it, ask the exam's coordinator to assign you."
)


def _when(at: datetime) -> str:
    return at.strftime("%d %B %Y, %H:%M UTC").lstrip("0")


def _window(exam: Exam) -> tuple[datetime, datetime]:
    tail = timedelta(seconds=parse_policy(exam.policy).tail_period_seconds)
    return exam.starts_at - access.WINDOW_MARGIN, exam.ends_at + tail + access.WINDOW_MARGIN


def _refusal(db: Any, staff: Staff, exam: Exam | None, now: datetime) -> PageRefused:
    """Why the board is closed to this person, in words they can act on (access.allowed said no)."""
    if staff.role == Role.EXAMINER:
        return PageRefused(
            403,
            "Not for your role",
            "Examiners see no proctoring data: no live board, flags, screenshots or webcam pictures. "
            "You grade the hand-ins.",
        )
    if exam is None or exam.institution_id != staff.institution_id:
        return PageRefused(403, "No access to this exam", NOT_YOURS)
    assigned = Role.INVIGILATOR.value in repository.assignment_roles(db, exam.id, staff.id)
    if staff.role == Role.INVIGILATOR and assigned and not access.in_window(exam, now):
        opens, closes = _window(exam)
        when = (
            f"It opens at {_when(opens)}, 30 minutes before the exam starts."
            if now < opens
            else f"It closed at {_when(closes)}, 30 minutes after the exam and its tail period ended."
        )
        return PageRefused(
            403,
            "The board is open only during the exam",
            f"Invigilators watch the board of {exam.title} only around the exam itself. {when} "
            "Reviewers read the evidence afterwards.",
        )
    return PageRefused(403, "No access to this exam", NOT_YOURS)


def _page(c: Container, who: Browser, exam_id: str) -> dict[str, Any]:
    now = utcnow()
    with c.uow() as db:
        staff = db.get(Staff, who.staff_id)
        assert staff is not None
        exam = repository.get(db, exam_id)
        if exam is None or not access.allowed(db, staff, exam, access.Purpose.STATUS, now):
            raise _refusal(db, staff, exam, now)
        evidence = access.allowed(db, staff, exam, access.Purpose.EVIDENCE, now)
        key = db.get(StaffKey, staff.id) if evidence else None
        closes = _window(exam)[1]
        return {
            "exam": {
                "id": exam.id,
                "title": exam.title,
                "starts_at": exam.starts_at,
                "ends_at": exam.ends_at,
                "timezone": exam.timezone,
            },
            "sees_evidence": evidence,
            "writes_notes": access.allowed(db, staff, exam, access.Purpose.INCIDENTS, now),
            "kid": key.kid if key else None,
            "closes": closes if staff.role == Role.INVIGILATOR else None,
        }


@router.get("/exams/{exam_id}/board")
def board_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = browser.require(c, request)
    page = _page(c, who, exam_id)
    return templating.render(
        "board.html",
        csp=security.EVIDENCE_CSP if page["sees_evidence"] else security.PAGE_CSP,
        who=who,
        idle_ms=c.settings.web_session_idle_seconds * 1000,
        behaviours={name: means for name, (means, _) in BEHAVIOURS.items()},
        when=_when,
        **page,
    )
