"""The landing page. Staff pages are templates (web/login.py, web/home.py); the student portal, the
link on the hand-in receipt, is web/portal.py."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from invigil import __version__
from invigil.web import security

router = APIRouter(include_in_schema=False)


def _page(title: str, body: str, status: int = 200, csp: str = security.PAGE_CSP) -> HTMLResponse:
    head = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        "<link rel=stylesheet href='/static/invigil.css'>"
    )
    html = f"{head}<body><main id=main>{body}</main></body></html>"
    return HTMLResponse(html, status_code=status, headers=security.headers(csp))


@router.get("/")
def landing() -> HTMLResponse:
    return _page(
        "Invigil",
        f"<h1>Invigil {escape(__version__)} is running</h1>"
        "<p>Privacy-by-design proctoring: evidence is sealed on the candidate's computer to keys only "
        "your institution holds.</p>"
        "<ul><li>Staff: <a href='/login'>log in</a></li>"
        "<li>Agent protocol and staff API: <a href='/docs'>/docs</a> (OpenAPI)</li>"
        "<li>Health: <a href='/healthz'>/healthz</a></li></ul>",
    )
