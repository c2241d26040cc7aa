"""The student portal: the link on the hand-in receipt, ``/me/{receipt token}``.

The page shows what the report (portal/report.py) holds, in English, Danish, German or Swedish
(``?lang=``, else the browser's Accept-Language). The recordings themselves stay sealed: portal.js
fetches each one's ciphertext and opens it in the browser with the receipt secret. A link that is
not a receipt link gets the same "not valid" page whether or not it ever existed. Every view is in
the access log, like a read of the report through the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from invigil.container import Container
from invigil.http import container
from invigil.kit.clock import utcnow
from invigil.portal import report, texts, view
from invigil.web import security, templating

router = APIRouter(include_in_schema=False)


@router.get("/me/{portal_token}")
def portal_page(
    portal_token: str, request: Request, lang: str | None = None, c: Container = Depends(container)
) -> HTMLResponse:
    language = texts.language_of(lang, request.headers.get("accept-language"))
    common: dict[str, Any] = {"lang": language, "languages": view.languages(language)}
    now = utcnow()
    with c.uow() as db:
        found = report.session_of(db, portal_token)
        if found is None:
            return templating.render(
                "portal_not_found.html", 404, security.PORTAL_CSP, t=texts.strings(language), **common
            )
        session, handin = found
        report.log_use(db, session, "portal.list", now)
        doc = report.build(db, session, now)  # this view included, under "who opened your data"
        receipt = handin.receipt
    if view.deleted_on(doc):
        return templating.render(
            "portal_deleted.html", csp=security.PORTAL_CSP, **view.deleted_page(doc, language), **common
        )
    return templating.render(
        "portal.html", csp=security.PORTAL_CSP, **view.page(doc, receipt, language, portal_token), **common
    )
