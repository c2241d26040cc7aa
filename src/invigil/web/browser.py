"""The browser's side of a login: the session cookie, who is logged in, CSRF checks.

The rules (stages, lifetimes, throttling) are the accounts domain's; this module only carries them
over HTTP. Every state-changing request of a logged-in page must carry the session's CSRF token,
as the ``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from invigil.accounts import websessions
from invigil.accounts.models import Staff, WebSession, sees_candidate_data
from invigil.config import Settings
from invigil.container import Container
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.web import templating

COOKIE = websessions.COOKIE
LOGIN_CSRF_COOKIE = "invigil_login_csrf"  # before login there is no session: double-submit token
CSRF_HEADER = websessions.CSRF_HEADER
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Browser:
    """A logged-in person as the pages need them (plain values: safe outside the transaction)."""

    staff_id: str
    name: str
    email: str
    role: str
    institution: str
    institution_slug: str
    stage: str
    csrf_token: str
    pending_totp_secret: str | None

    @property
    def sees_candidate_data(self) -> bool:
        return sees_candidate_data(self.role)


class PageRefused(Exception):
    """Rendered as a page with a message a person can act on (web/pages handler)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


class LoginRequired(Exception):
    """Sends the browser to the login page (or to the step of the login it is in)."""

    def __init__(self, location: str = "/login") -> None:
        super().__init__(location)
        self.location = location


def lookup(c: Container, request: Request) -> Browser | None:
    now = utcnow()
    with c.uow() as db:
        row = websessions.resolve(
            db, request.cookies.get(COOKIE), now, websessions.Lifetimes.from_settings(c.settings)
        )
        if row is None:
            return None
        staff = db.get(Staff, row.staff_id)
        institution = db.get(Institution, staff.institution_id) if staff else None
        if staff is None or institution is None or not staff.is_active:
            db.delete(row)
            return None
        return _browser(row, staff, institution)


def _browser(row: WebSession, staff: Staff, institution: Institution) -> Browser:
    return Browser(
        staff.id,
        staff.display_name,
        staff.email,
        staff.role,
        institution.name,
        institution.slug,
        row.stage,
        row.csrf_token,
        row.pending_totp_secret,
    )


def require(c: Container, request: Request, stage: str = websessions.FULL) -> Browser:
    """The person logged in at ``stage``; otherwise off to where their login stands."""
    who = lookup(c, request)
    if who is None:
        raise LoginRequired("/login")
    if who.stage != stage:
        raise LoginRequired(STAGE_PAGES[who.stage])
    return who


STAGE_PAGES = {
    websessions.ENROL: "/login/enrol",
    websessions.SECOND_FACTOR: "/login/code",
    websessions.FULL: "/home",
}


def check_csrf(request: Request, expected: str | None, form: dict[str, str]) -> None:
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    if not expected or not sent or not tokens.same(sent, expected):
        raise PageRefused(
            403,
            "Request refused",
            "This form has expired or did not come from this Invigil page. Go back, reload the page "
            "and try again.",
        )


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(response: Response, name: str, value: str, settings: Settings, path: str = "/") -> None:
    response.set_cookie(
        name, value, path=path, httponly=True, samesite="strict", secure=settings.secure_cookies
    )


def clear_cookie(response: Response, name: str, settings: Settings, path: str = "/") -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="strict", secure=settings.secure_cookies)


def go(location: str, request: Request) -> Response:
    """Redirect after a POST (303); htmx follows ``HX-Redirect`` with a full page load instead."""
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def refused_page(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageRefused)
    who = lookup(request.app.state.container, request)
    return templating.render(
        "refused.html",
        status=exc.status,
        who=who if who and who.stage == websessions.FULL else None,
        title=exc.title,
        message=exc.message,
    )


def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return go(exc.location, request) if request.method != "GET" else RedirectResponse(exc.location, 303)
