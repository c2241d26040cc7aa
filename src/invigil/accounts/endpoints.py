"""Staff login for the API (bearer tokens): password and, once enrolled, the TOTP code (ADR 0012)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from invigil.accounts import keys, service, websessions
from invigil.accounts import login as login_attempts
from invigil.accounts.models import Staff, StaffKey
from invigil.container import Container
from invigil.http import bearer, client_bucket, container, require_bearer
from invigil.institutions import service as institutions
from invigil.kit.clock import utcnow
from invigil.kit.errors import NotFound

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class LoginRequest(BaseModel):
    institution: str = Field(max_length=64)
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)
    totp: str | None = Field(
        default=None, max_length=64, description="The authenticator app's code, or a recovery code."
    )


class LoginResponse(BaseModel):
    token: str
    expires_at: datetime
    role: str
    staff_id: str


def current_staff(request: Request, c: Container = Depends(container)) -> Staff:
    """Scripts send a bearer token; the staff pages' own requests send the login cookie (ADR 0015)."""
    if bearer(request) is None and websessions.COOKIE in request.cookies:
        with c.uow() as db:
            return websessions.staff_for_api(
                db,
                request.cookies.get(websessions.COOKIE),
                request.method,
                request.headers.get(websessions.CSRF_HEADER),
                utcnow(),
                websessions.Lifetimes.from_settings(c.settings),
            )
    token = require_bearer(request)
    with c.uow() as db:
        return service.resolve_token(db, token, utcnow())


def login_check(request: Request, c: Container) -> Callable[[Session, datetime], bool]:
    """For a long-lived response (the board's event stream): is the login that opened it still valid?
    The same credential ``current_staff`` accepted: the bearer token, else the browser's session."""
    token = bearer(request)
    if token is not None:
        return lambda db, now: service.token_alive(db, token, now)
    raw = request.cookies.get(websessions.COOKIE)
    life = websessions.Lifetimes.from_settings(c.settings)
    return lambda db, now: websessions.alive(db, raw, now, life)


@router.post("/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, c: Container = Depends(container)) -> LoginResponse:
    now = utcnow()
    ttl = c.settings.staff_token_ttl_seconds

    def step(db: Session) -> LoginResponse:
        staff = service.check_password(
            db, institutions.by_slug(db, body.institution), body.email, body.password
        )
        service.check_second_factor(db, staff, body.totp, now, c.settings.effective_public_url + "/login")
        token = service.issue_token(db, staff, now, ttl)
        return LoginResponse(
            token=token, role=staff.role, staff_id=staff.id, expires_at=now + timedelta(seconds=ttl)
        )

    return login_attempts.attempt(c, body.institution, body.email, client_bucket(request), now, step)


@router.post("/logout")
def logout(request: Request, c: Container = Depends(container)) -> dict[str, str]:
    token = require_bearer(request)
    with c.uow() as db:
        service.logout(db, token, utcnow())
    return {"status": "logged out"}


@router.get("/me")
def me(staff: Staff = Depends(current_staff)) -> dict[str, str]:
    return {"id": staff.id, "email": staff.email, "name": staff.display_name, "role": staff.role}


class KeyUpload(BaseModel):
    public_key: str = Field(min_length=44, max_length=44)
    wrapped: dict[str, Any]


@router.get("/me/key")
def my_key(staff: Staff = Depends(current_staff), c: Container = Depends(container)) -> dict[str, Any]:
    """Your wrapped private key, to unwrap with your passphrase on your side."""
    with c.uow() as db:
        row = db.get(StaffKey, staff.id)
        if row is None:
            raise NotFound("You have not set up your personal key yet.")
        return keys.describe(row)


@router.put("/me/key")
def put_my_key(
    body: KeyUpload, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Register your key pair (made on your side), or rewrap it under a new passphrase."""
    with c.uow() as db:
        row = keys.set_key(
            db,
            staff,
            body.public_key,
            body.wrapped,
            min_iterations=c.settings.kdf_iterations,
            now=utcnow(),
        )
        return keys.describe(row)
