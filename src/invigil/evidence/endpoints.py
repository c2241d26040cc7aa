"""Evidence upload (agent) and sealed reads (staff)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from invigil import ingest
from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.audit import service as audit
from invigil.container import Container
from invigil.evidence import repository, service
from invigil.exams import access
from invigil.http import bearer, container
from invigil.kit.clock import iso, utcnow
from invigil.privacy import requests as subject_requests
from invigil.protocol import v1
from invigil.sessions import service as sessions
from invigil.sessions.models import ExamSession

agent_router = APIRouter(prefix=v1.PREFIX, tags=["agent"])
staff_router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


@agent_router.get("/evidence/{item_id}", response_model=v1.UploadStatus)
def upload_status(item_id: str, request: Request, c: Container = Depends(container)) -> v1.UploadStatus:
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        return service.status(db, session, item_id)


# In an app from create_app, hotroutes.py answers uploads before FastAPI; both call ingest.py.
@agent_router.put("/evidence/{item_id}", response_model=v1.UploadStatus)
async def upload(
    item_id: str, request: Request, response: Response, c: Container = Depends(container)
) -> v1.UploadStatus:
    limit = c.settings.max_request_bytes
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise ingest.too_large(limit)
        chunks.append(chunk)
    up = ingest.upload_of(item_id, request.headers, b"".join(chunks))
    response.status_code, result = await ingest.upload(c, bearer(request), up)
    return result


@staff_router.get("/sessions/{session_id}/evidence")
def list_evidence(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, object]:
    now = utcnow()
    with c.uow() as db:
        session = access.require_for(db, staff, db.get(ExamSession, session_id), access.Purpose.EVIDENCE, now)
        subject_requests.check_not_restricted(db, session.id)
        items = repository.stored_for_session(db, session.id)
        audit.record(
            db,
            actor_kind="staff",
            actor_id=staff.id,
            action="evidence.list",
            at=now,
            exam_id=session.exam_id,
            session_id=session.id,
        )
        return {
            "session_id": session.id,
            "items": [
                {
                    "id": i.id,
                    "client_id": i.client_id,
                    "kind": i.kind,
                    "size": i.size,
                    "sha256": i.sha256,
                    "captured_at": iso(i.captured_at),
                    "received_at": iso(i.received_at),
                }
                for i in items
            ],
        }


@staff_router.get("/evidence/{item_id}")
def read_evidence(
    item_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> Response:
    """The sealed envelope, as stored. Decryption happens on the reader's side only."""
    now = utcnow()
    with c.uow() as db:
        item = access.require_for(db, staff, repository.get(db, item_id), access.Purpose.EVIDENCE, now)
        subject_requests.check_not_restricted(db, item.session_id)
        item, data = service.read_for_staff(db, c.store, item_id, staff.id, now)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Invigil-Kind": item.kind, "Invigil-Sha256": item.sha256, "Cache-Control": "no-store"},
    )
