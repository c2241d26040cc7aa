"""Minimal pages: the landing page and the hand-in receipt link (until the student portal exists)."""

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
    "line-height:1.5;color:#1d2330}code{background:#eef1f5;padding:0 .25rem}h1{font-size:1.6rem}</style>"
)
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    head = f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>{_STYLE}"
    html = f"{head}<body>{body}</body></html>"
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


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
        f"<p>Files handed in (sealed; fingerprints):</p><ul>{files}</ul>",
    )
