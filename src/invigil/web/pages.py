"""Minimal pages: the landing page, and the hand-in receipt link where the student opens their own
data in the browser (the full portal comes with the web UI)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from invigil import __version__
from invigil.container import Container
from invigil.http import container
from invigil.kit import tokens
from invigil.sessions import repository

router = APIRouter(include_in_schema=False)

_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1d2330}code{background:#eef1f5;padding:0 .25rem}h1{font-size:1.6rem}"
    "#items{list-style:none;padding:0}#items img{max-width:100%;border:1px solid #ccd}"
    "#items pre{white-space:pre-wrap;background:#f4f6f8;padding:.5rem;max-height:12rem;overflow:auto}</style>"
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


# The portal page runs our own module only, talks only to this server, shows images it decrypted.
_PORTAL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
    "img-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _page(title: str, body: str, status: int = 200, csp: str | None = None) -> HTMLResponse:
    head = f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>{_STYLE}"
    html = f"{head}<body>{body}</body></html>"
    headers = {**_HEADERS, **({"Content-Security-Policy": csp} if csp else {})}
    return HTMLResponse(html, status_code=status, headers=headers)


@router.get("/")
def landing() -> HTMLResponse:
    return _page(
        "Invigil",
        f"<h1>Invigil {escape(__version__)} is running</h1>"
        "<p>Privacy-by-design proctoring: evidence is sealed on the candidate's computer to keys only "
        "your institution holds.</p>"
        "<ul><li>Agent protocol and staff API: <a href='/docs'>/docs</a> (OpenAPI)</li>"
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
        csp=_PORTAL_CSP,
    )
