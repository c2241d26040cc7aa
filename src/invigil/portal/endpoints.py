"""Student portal API: from the link on the hand-in receipt, the list of everything collected in that
session and each item's ciphertext. Opening happens in the student's browser with their receipt
secret (web/static/invigil-crypto.js); the server cannot, and the link alone reveals no content.
Every use is written to the access log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select

from invigil.audit import service as audit
from invigil.container import Container
from invigil.evidence import service as evidence
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import Candidate, Exam
from invigil.http import container
from invigil.kit import tokens
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import NotFound
from invigil.sessions import repository
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound

router = APIRouter(prefix="/api/v1/portal", tags=["portal"])

_NOT_VALID = "This link is not valid."


def _session(db: Any, portal_token: str) -> ExamSession:
    if len(portal_token) > 128:
        raise NotFound(_NOT_VALID)
    handin = repository.handin_by_portal_hash(db, tokens.token_hash(portal_token))
    session = db.get(ExamSession, handin.session_id) if handin else None
    if session is None:
        raise NotFound(_NOT_VALID)
    return session


@router.get("/{portal_token}")
def overview(portal_token: str, c: Container = Depends(container)) -> dict[str, Any]:
    """Everything collected in this session: kinds, times, sizes; deleted items say when."""
    now = utcnow()
    with c.uow() as db:
        session = _session(db, portal_token)
        exam = db.get(Exam, session.exam_id)
        candidate = db.get(Candidate, session.candidate_id)
        assert exam is not None
        assert candidate is not None
        items = db.scalars(
            select(EvidenceItem)
            .where(EvidenceItem.session_id == session.id, EvidenceItem.status.in_(evidence.FINAL))
            .order_by(EvidenceItem.captured_at)
        ).all()
        audit.record(
            db,
            actor_kind="candidate",
            actor_id=session.id,
            action="portal.list",
            at=now,
            exam_id=exam.id,
            session_id=session.id,
        )
        return {
            "exam": {"id": exam.id, "title": exam.title},
            "session_id": session.id,
            "candidate": candidate.pseudonym,
            "candidate_kid": session.candidate_kid,
            "items": [
                {
                    "id": i.id,
                    "client_id": i.client_id,
                    "kind": i.kind,
                    "captured_at": iso(i.captured_at),
                    "size": i.size,
                    "status": i.status,
                    "deleted_at": iso(i.shredded_at) if i.shredded_at else None,
                }
                for i in items
            ],
        }


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
