"""Student portal API: from the link on the hand-in receipt, the list of everything collected in that
session and each item's ciphertext. Opening happens in the student's browser with their receipt
secret (web/static/invigil-crypto.js); the server cannot, and the link alone reveals no content.
Every use is written to the access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from invigil.audit import service as audit
from invigil.container import Container
from invigil.evidence.models import EvidenceItem
from invigil.http import container
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import NotFound
from invigil.portal import report, subject_export
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound

router = APIRouter(prefix="/api/v1/portal", tags=["portal"])

_NOT_VALID = "This link is not valid."


def _session(db: Any, portal_token: str) -> ExamSession:
    found = report.session_of(db, portal_token)
    if found is None:
        raise NotFound(_NOT_VALID)
    return found[0]


@router.get("/{portal_token}")
def overview(portal_token: str, c: Container = Depends(container)) -> dict[str, Any]:
    """Everything held about this session (portal/report.py): what was collected and what became of
    it, flags, decisions, who opened the data and when, the privacy notice. Logged."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, portal_token)
        report.log_use(db, session, "portal.list", now)
        return report.build(db, session, now)


@router.get("/{portal_token}/export.zip")
def export(portal_token: str, lang: str = "en", c: Container = Depends(container)) -> Response:
    """The candidate's copy of all of it (GDPR Art. 15) as a ZIP: the report, every stored item
    sealed, and an offline page that opens them with the receipt secret, in ``lang`` (en, da, de,
    sv). Logged."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, portal_token)
        doc = report.build(db, session, now)
        rows = {i.id: i for i in report.items(db, session.id)}
        report.log_use(db, session, "portal.export", now)
    sealed = []
    for entry in doc["items"]:
        if entry["status"] == "stored":
            try:
                sealed.append((entry, c.store.get(rows[entry["id"]].blob_key)))
            except BlobNotFound:
                entry["status"] = "missing"
    name = f"invigil-{doc['candidate']}-{doc['exam']['id'][:8]}.zip"
    return Response(
        subject_export.build(doc, sealed, lang),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/{portal_token}/items/{item_id}")
def item(portal_token: str, item_id: str, c: Container = Depends(container)) -> Response:
    """One item's sealed envelope, for the student's browser to open."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, portal_token)
        row = db.get(EvidenceItem, item_id) if len(item_id) <= 32 else None
        if row is None or row.session_id != session.id:
            raise NotFound("No such item in this session.")
        if row.status != "stored":
            raise NotFound(
                f"This item was deleted on {iso(row.shredded_at)}." if row.shredded_at else "Not found."
            )
        try:
            data = c.store.get(row.blob_key)
        except BlobNotFound as exc:
            raise NotFound("This item has been deleted.") from exc
        audit.record(
            db,
            actor_kind="candidate",
            actor_id=session.id,
            action="portal.read",
            at=now,
            exam_id=row.exam_id,
            session_id=session.id,
            item_id=row.id,
            kind=row.kind,
        )
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": "no-store"})
