"""The login pages: password, then the authenticator code (or enrolment at first login), logout.

Each step is one throttled attempt (accounts/login.py); the forms carry CSRF tokens (web/browser.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import segno
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from invigil.accounts import login as attempts
from invigil.accounts import service, twofactor, websessions
from invigil.accounts.models import Staff, WebSession
from invigil.container import Container
from invigil.http import client_bucket, container
from invigil.institutions import service as institutions
from invigil.kit import tokens, totp
from invigil.kit.clock import utcnow
from invigil.kit.errors import DomainError, Invalid
from invigil.web import browser, forms, templating
from invigil.web.browser import Browser

router = APIRouter(include_in_schema=False)
T = TypeVar("T")


def _single_institution(c: Container) -> str | None:
    with c.uow() as db:
        only = institutions.only(db)
        return only.slug if only else None


def _login_form(c: Container, status: int = 200, error: str = "", email: str = "") -> HTMLResponse:
    token = browser.new_login_csrf()
    page = templating.render(
        "login.html",
        status=status,
        csrf_token=token,
        error=error,
        email=email,
        ask_institution=_single_institution(c) is None,
    )
    browser.set_cookie(page, browser.LOGIN_CSRF_COOKIE, token, c.settings, path="/login")
    return page


@router.get("/login")
def login_page(request: Request, c: Container = Depends(container)) -> Response:
    who = browser.lookup(c, request)
    if who is not None:
        return RedirectResponse(browser.STAGE_PAGES[who.stage], status_code=303)
    return _login_form(c)


@router.post("/login")
async def login_password(request: Request, c: Container = Depends(container)) -> Response:
    form = await forms.read(request)
    browser.check_csrf(request, request.cookies.get(browser.LOGIN_CSRF_COOKIE), form)
    email, password = form.get("email", "")[:254], form.get("password", "")[:1024]
    slug = _single_institution(c) or form.get("institution", "")[:64]
    now = utcnow()
    life = websessions.Lifetimes.from_settings(c.settings)

    def step(db: Session) -> tuple[str, str]:
        staff = service.check_password(db, institutions.by_slug(db, slug), email, password)
        if twofactor.is_enrolled(staff):
            raw, row = websessions.start(db, staff.id, websessions.SECOND_FACTOR, now, life)
        elif twofactor.needs_two_factor(staff.role):
            raw, row = websessions.start(db, staff.id, websessions.ENROL, now, life, totp.new_secret())
        else:
            raw, row = websessions.start(db, staff.id, websessions.FULL, now, life)
            staff.last_login_at = now
        return raw, row.stage

    try:
        raw, stage = attempts.attempt(c, slug, email, client_bucket(request), now, step, completes=False)
    except DomainError as exc:
        return _login_form(c, exc.status, exc.message, email)
    response = browser.go(browser.STAGE_PAGES[stage], request)
    browser.set_cookie(response, browser.COOKIE, raw, c.settings)
    browser.clear_cookie(response, browser.LOGIN_CSRF_COOKIE, c.settings, path="/login")
    return response


Finish = Callable[[Session, Staff, WebSession, str, datetime], T]


def _second_step(
    c: Container, request: Request, who: Browser, code: str, finish: Finish[T]
) -> tuple[str, T] | DomainError:
    """One throttled attempt at the second step: ``finish(db, staff, row)`` checks the code and returns
    what the page shows next; the session moves to ``full`` under a new id."""
    now = utcnow()
    life = websessions.Lifetimes.from_settings(c.settings)

    def step(db: Session) -> tuple[str, T]:
        row = db.get(WebSession, tokens.token_hash(request.cookies.get(browser.COOKIE, "")))
        staff = db.get(Staff, who.staff_id)
        if row is None or staff is None:
            raise attempts.LoginFailed("Your login has expired; start again.")
        shown = finish(db, staff, row, code, now)
        staff.last_login_at = now
        raw, _ = websessions.advance(db, row, websessions.FULL, now, life)
        return raw, shown

    try:
        return attempts.attempt(c, who.institution_slug, who.email, client_bucket(request), now, step)
    except DomainError as exc:
        return exc


@router.get("/login/code")
def code_page(request: Request, c: Container = Depends(container)) -> Response:
    who = browser.require(c, request, websessions.SECOND_FACTOR)
    return templating.render("code.html", who=who)


def _check_code(db: Session, staff: Staff, _row: WebSession, code: str, now: datetime) -> None:
    service.check_second_factor(db, staff, code, now, "/login")


@router.post("/login/code")
async def code_submit(request: Request, c: Container = Depends(container)) -> Response:
    who = browser.require(c, request, websessions.SECOND_FACTOR)
    form = await forms.read(request)
    browser.check_csrf(request, who.csrf_token, form)
    outcome = _second_step(c, request, who, form.get("code", "").strip()[:64], _check_code)
    if isinstance(outcome, DomainError):
        return templating.render("code.html", status=outcome.status, who=who, error=outcome.message)
    raw, _ = outcome
    response = browser.go("/home", request)
    browser.set_cookie(response, browser.COOKIE, raw, c.settings)
    return response


def _qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG: plain paths and attributes, nothing a strict CSP blocks."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=4, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own SVG of a URI we built; no user markup inside


def _enrol_page(who: Browser, status: int = 200, error: str = "") -> HTMLResponse:
    secret = who.pending_totp_secret or ""
    uri = twofactor.provisioning_uri_for(who.email, secret, who.institution)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return templating.render(
        "enrol.html",
        status=status,
        who=who,
        qr=_qr_svg(uri),
        secret=grouped,
        error=error,
    )


@router.get("/login/enrol")
def enrol_page(request: Request, c: Container = Depends(container)) -> Response:
    return _enrol_page(browser.require(c, request, websessions.ENROL))


def _confirm_enrolment(db: Session, staff: Staff, row: WebSession, code: str, now: datetime) -> list[str]:
    if row.pending_totp_secret is None:
        raise attempts.LoginFailed("Your login has expired; start again.")
    try:
        codes = twofactor.enrol(db, staff, row.pending_totp_secret, code, now)
    except Invalid as exc:
        raise attempts.LoginFailed(exc.message) from exc
    service.record_login(db, staff, now)
    return codes


@router.post("/login/enrol")
async def enrol_submit(request: Request, c: Container = Depends(container)) -> Response:
    who = browser.require(c, request, websessions.ENROL)
    form = await forms.read(request)
    browser.check_csrf(request, who.csrf_token, form)
    outcome = _second_step(c, request, who, form.get("code", "").strip()[:64], _confirm_enrolment)
    if isinstance(outcome, DomainError):
        return _enrol_page(who, outcome.status, outcome.message)
    raw, codes = outcome
    page = templating.render("recovery_codes.html", who=None, codes=codes)
    browser.set_cookie(page, browser.COOKIE, raw, c.settings)
    return page


@router.post("/logout")
async def logout(request: Request, c: Container = Depends(container)) -> Response:
    who = browser.lookup(c, request)
    form = await forms.read(request)
    if who is not None:
        browser.check_csrf(request, who.csrf_token, form)
        with c.uow() as db:
            websessions.end(db, request.cookies.get(browser.COOKIE), utcnow())
    response = browser.go("/login?logged-out", request)
    browser.clear_cookie(response, browser.COOKIE, c.settings)
    return response
