"""Minimal pages: the landing page, and the hand-in receipt link where the student opens their own
data in the browser. Staff pages are templates (web/login.py, web/home.py)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from invigil import __version__
from invigil.container import Container
from invigil.http import container
from invigil.kit import tokens
from invigil.sessions import repository
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


@router.get("/me/{portal_token}")
def receipt_link(portal_token: str, c: Container = Depends(container)) -> HTMLResponse:
    """The link on the hand-in receipt. Shows the receipt facts; the full portal comes later."""
    if len(portal_token) > 128:
        return _page("Not found", "<h1>This link is not valid.</h1>", 404)
    with c.uow() as db:
        handin = repository.handin_by_portal_hash(db, tokens.token_hash(portal_token))
        if handin is None:
            return _page("Not found", "<h1>This link is not valid.</h1>", 404)
        r = handin.receipt
    files = "".join(
        f"<li><code>{escape(f['sha256'][:16])}…</code> {int(f['size'])} bytes</li>" for f in r["files"]
    )
    return _page(
        "Your hand-in receipt",
        f"<h1>Hand-in receipt</h1><p>Exam: <b>{escape(r['exam']['title'])}</b><br>"
        f"Candidate: <b>{escape(r['candidate'])}</b><br>Handed in: {escape(r['handed_in_at'])}<br>"
        f"Evidence items received by then: {int(r['evidence_items_received'])}</p>"
        f"<p>Files handed in (sealed; fingerprints):</p><ul>{files}</ul>"
        f"<section id=portal data-token='{escape(portal_token, quote=True)}'>"
        "<h2>Your data</h2><p>Everything collected about you in this exam is sealed so that only your "
        "institution's named staff and you can open it. Enter the secret printed on your receipt: it "
        "opens your data here, in this browser, and is never sent anywhere.</p>"
        "<form id=secret-form autocomplete=off><label>Receipt secret <input name=secret size=70 "
        "spellcheck=false autocapitalize=characters></label> <button>Open my data</button> "
        "<button type=button id=close>Close</button></form>"
        "<p id=status role=status></p><ul id=items></ul></section>"
        "<script type=module src='/static/portal.js'></script>",
        csp=security.PORTAL_CSP,
    )
