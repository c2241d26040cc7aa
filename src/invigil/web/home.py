"""After login: the landing page per role, and "unlock your key" in the browser."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from invigil.accounts import keys
from invigil.accounts.models import Staff, StaffKey
from invigil.container import Container
from invigil.exams import access
from invigil.http import container
from invigil.kit.clock import utcnow
from invigil.web import browser, review_pages, security, templating
from invigil.web.browser import Browser, PageRefused

router = APIRouter(include_in_schema=False)

# What each role finds on its landing page, until the pages for that work exist (issue 5).
ROLE_INTRO = {
    "admin": "You manage staff accounts and the institution's settings, and see every exam's status.",
    "coordinator": "You prepare exams, register candidates and assign invigilators and reviewers.",
    "invigilator": "During the exams you are assigned to, you watch each candidate's status live.",
    "reviewer": "After the exams you are assigned to, you review flagged moments and record decisions.",
    "examiner": "You grade hand-ins. You see no proctoring data: no screenshots, webcam or flags.",
}


REVIEWS = ("reviewer", "invigilator")  # invigilators read the workspace of their exam in its window


def _exams(c: Container, who: Browser) -> list[dict[str, Any]]:
    with c.uow() as db:
        staff = db.get(Staff, who.staff_id)
        assert staff is not None
        return [
            {
                "id": e.id,
                "title": e.title,
                "starts_at": e.starts_at,
                "ends_at": e.ends_at,
                "timezone": e.timezone,
                "review_url": review_pages.workspace_url(e.id) if who.role in REVIEWS else None,
                # Key holders pass the keys on there; reviewers also handle holds and requests.
                "access_url": f"/admin/exams/{e.id}/access" if who.role in REVIEWS else None,
                "privacy_url": f"/admin/exams/{e.id}/privacy" if who.role == "reviewer" else None,
            }
            for e in access.visible_exams(db, staff, utcnow())
        ]


@router.get("/home")
def home(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = browser.require(c, request)
    return templating.render("home.html", who=who, intro=ROLE_INTRO[who.role], exams=_exams(c, who))


@router.get("/home/exams")
def home_exams(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    """The exam list alone, for htmx to refresh in place."""
    who = browser.require(c, request)
    return templating.render("_exams.html", exams=_exams(c, who))


def _key_holder(c: Container, request: Request) -> Browser:
    who = browser.require(c, request)
    if not who.sees_candidate_data:
        raise PageRefused(
            403,
            "Not for your role",
            "Your role sees no candidate data, so it has no personal key to unlock.",
        )
    return who


@router.get("/unlock")
def unlock_page(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = _key_holder(c, request)
    with c.uow() as db:
        row = db.get(StaffKey, who.staff_id)
        kid = row.kid if row else None
    return templating.render(
        "unlock.html",
        who=who,
        kid=kid,
        idle_ms=c.settings.web_session_idle_seconds * 1000,
    )


@router.get("/account/key")
def my_wrapped_key(request: Request, c: Container = Depends(container)) -> JSONResponse:
    """The wrapped private key, for this browser to unwrap with the passphrase the server never sees."""
    who = _key_holder(c, request)
    with c.uow() as db:
        row = db.get(StaffKey, who.staff_id)
        if row is None:
            raise PageRefused(404, "No key yet", "You have not set up your personal key yet.")
        return JSONResponse(keys.describe(row), headers=security.headers())
