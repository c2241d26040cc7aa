"""Administration pages for admins: the institution's settings, staff accounts and their roles.

Each POST checks the CSRF token and calls the domain service the staff API and CLI use
(institutions/service.py, accounts/service.py, accounts/staffing.py); each change is in the access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from invigil.accounts import repository as accounts_repo
from invigil.accounts import service as accounts
from invigil.accounts import staffing
from invigil.accounts.models import Role, Staff
from invigil.container import Container
from invigil.exams.retention import parse_retention
from invigil.http import container
from invigil.institutions import service as institutions
from invigil.kit.clock import utcnow
from invigil.kit.errors import DomainError, Invalid
from invigil.privacy.endpoints import PrivacySettings
from invigil.privacy.texts import TEXTS
from invigil.web import templating
from invigil.web.admin_common import checked_form, institution_of, require_office
from invigil.web.browser import Browser, PageRefused

router = APIRouter(include_in_schema=False)
CATEGORIES: dict[str, str] = TEXTS["en"]["categories"]
ROLE_WORDS = {
    "admin": "manages staff and the institution's settings",
    "coordinator": "prepares exams, candidates and codes",
    "invigilator": "watches assigned exams live",
    "reviewer": "reviews flagged moments of assigned exams",
    "examiner": "grades hand-ins; sees no proctoring data",
}


def _institution_page(
    c: Container, who: Browser, status: int = 200, errors: dict[str, str] | None = None, saved: str = ""
) -> HTMLResponse:
    with c.uow() as db:
        inst = institution_of(db, who)
        retention = parse_retention(inst.default_retention).model_dump()
        privacy = {**(inst.privacy or {}), "dpo_contact": inst.dpo_contact}
        view: dict[str, Any] = {"name": inst.name, "region": inst.region, "slug": inst.slug}
    return templating.render(
        "admin_institution.html",
        status=status,
        who=who,
        inst=view,
        retention=retention,
        categories=CATEGORIES,
        privacy=privacy,
        errors=errors or {},
        saved=saved,
    )


@router.get("/admin/institution")
def institution_page(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    return _institution_page(c, require_office(c, request, admin_only=True))


@router.post("/admin/institution")
async def institution_save(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request, admin_only=True)
    form = await checked_form(request, who)
    days: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for category in CATEGORIES:
        raw = form.get(f"retention.{category}", "").strip()
        if not raw.isdigit():
            errors[f"retention.{category}"] = "Give a number of days (1 to 3650)."
        else:
            days[category] = int(raw)
    if not errors:
        try:
            with c.uow() as db:
                institutions.update_settings(
                    db,
                    institution_of(db, who),
                    name=form.get("name", ""),
                    default_retention=days,
                    by=who.staff_id,
                    now=utcnow(),
                )
        except DomainError as exc:
            errors["settings"] = exc.message
    if errors:
        return _institution_page(c, who, 422, errors)
    return _institution_page(c, who, saved="The name and default retention periods were saved.")


@router.post("/admin/institution/privacy")
async def privacy_save(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request, admin_only=True)
    form = await checked_form(request, who)
    fields = {k: form.get(k, "").strip() for k in PrivacySettings.model_fields}
    try:
        values = PrivacySettings(**fields)
    except ValidationError as exc:
        errors = {
            f"privacy.{e['loc'][0]}": f"At most {e.get('ctx', {}).get('max_length', '')} characters."
            for e in exc.errors()
        }
        return _institution_page(c, who, 422, errors)
    with c.uow() as db:
        institutions.update_privacy(
            db, institution_of(db, who), values.model_dump(), by=who.staff_id, now=utcnow()
        )
    return _institution_page(
        c, who, saved="The privacy contacts were saved; every exam's notice now shows them."
    )


def _staff_page(
    c: Container,
    who: Browser,
    status: int = 200,
    error: str = "",
    saved: str = "",
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    with c.uow() as db:
        inst = institution_of(db, who)
        people = [
            {
                "id": s.id,
                "name": s.display_name,
                "email": s.email,
                "role": s.role,
                "active": s.is_active,
                "enrolled": s.totp_enrolled_at is not None,
                "last_login": s.last_login_at,
                "me": s.id == who.staff_id,
            }
            for s in accounts_repo.of_institution(db, inst.id)
        ]
    return templating.render(
        "admin_staff.html",
        status=status,
        who=who,
        people=people,
        roles=ROLE_WORDS,
        error=error,
        saved=saved,
        form=form or {},
    )


@router.get("/admin/staff")
def staff_page(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    return _staff_page(c, require_office(c, request, admin_only=True))


@router.post("/admin/staff")
async def staff_create(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    """A new account with a one-time initial password, shown on this response only. The person sets
    up two-factor login (TOTP) at their first login (ADR 0012)."""
    who = require_office(c, request, admin_only=True)
    form = await checked_form(request, who)
    email, name, role = form.get("email", "")[:254], form.get("name", "").strip()[:200], form.get("role", "")
    password = accounts.generate_password()
    try:
        if role not in ROLE_WORDS:
            raise Invalid("Choose a role for the new account.")
        if not name:
            raise Invalid("Give the person's name, as colleagues know them.")
        with c.uow() as db:
            staff = accounts.create_staff(
                db, institution_of(db, who), email, name, Role(role), password, by=who.staff_id
            )
            created = {"email": staff.email, "name": staff.display_name, "role": staff.role}
    except DomainError as exc:
        return _staff_page(c, who, exc.status, exc.message, form=form)
    return templating.render("admin_staff_created.html", who=who, person=created, password=password)


def _person(db: Any, who: Browser, staff_id: str) -> Staff:
    person = db.get(Staff, staff_id)
    if person is None or person.institution_id != institution_of(db, who).id:
        raise PageRefused(404, "No such account", "This staff account does not exist in your institution.")
    return person


@router.post("/admin/staff/{staff_id}/role")
async def staff_role(staff_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request, admin_only=True)
    form = await checked_form(request, who)
    try:
        with c.uow() as db:
            person = _person(db, who, staff_id)
            left = staffing.change_role(db, person, form.get("role", ""), who.staff_id, utcnow())
            done = f"{person.email} is now a {person.role}." + (
                f" They were removed from {len(left)} exam{'s' if len(left) != 1 else ''} and those exams' "
                "keys "
                "were rotated; assign them again where needed."
                if left
                else ""
            )
    except DomainError as exc:
        return _staff_page(c, who, exc.status, exc.message)
    return _staff_page(c, who, saved=done)


@router.post("/admin/staff/{staff_id}/deactivate")
async def staff_deactivate(
    staff_id: str, request: Request, c: Container = Depends(container)
) -> HTMLResponse:
    who = require_office(c, request, admin_only=True)
    await checked_form(request, who)
    try:
        with c.uow() as db:
            person = _person(db, who, staff_id)
            left = staffing.deactivate(db, person, who.staff_id, utcnow())
            done = f"{person.email} can no longer log in." + (
                f" They were removed from {len(left)} exam{'s' if len(left) != 1 else ''}." if left else ""
            )
    except DomainError as exc:
        return _staff_page(c, who, exc.status, exc.message)
    return _staff_page(c, who, saved=done)
