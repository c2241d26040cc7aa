"""Evidence upload (agent) and sealed reads (staff)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.audit import service as audit
from invigil.container import Container
from invigil.evidence import repository, service
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.flags import queue as analysis
from invigil.http import bearer, container
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import BadRequest, DomainError, Forbidden, NotFound, PayloadTooLarge
from invigil.privacy import requests as subject_requests
from invigil.protocol import v1
from invigil.sessions import service as sessions
from invigil.sessions.models import ExamSession

agent_router = APIRouter(prefix=v1.PREFIX, tags=["agent"])
staff_router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


def _header_int(request: Request, name: str) -> int:
    try:
        value = int(request.headers[name])
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Header {name} is required and must be a whole number.") from exc
    if value < 0:
        raise BadRequest(f"Header {name} must not be negative.")
    return value


def _header_time(request: Request, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(request.headers[name].replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Header {name} is required and must be an ISO 8601 time.") from exc
    if value.tzinfo is None:
        raise BadRequest(f"Header {name} needs a time zone offset.")
    return value


@agent_router.get("/evidence/{item_id}", response_model=v1.UploadStatus)
def upload_status(item_id: str, request: Request, c: Container = Depends(container)) -> v1.UploadStatus:
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        return service.status(db, session, item_id)


@agent_router.put("/evidence/{item_id}", response_model=v1.UploadStatus)
async def upload(
    item_id: str, request: Request, response: Response, c: Container = Depends(container)
) -> v1.UploadStatus:
    limit = c.settings.max_request_bytes
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"A single request may carry at most {limit} bytes; send chunks.")
        chunks.append(chunk)
    up = service.Upload(
        item_id=item_id,
        kind=request.headers.get(v1.H_KIND, ""),
        sha256=request.headers.get(v1.H_SHA256, "").lower(),
        size=_header_int(request, v1.H_SIZE),
        captured_at=_header_time(request, v1.H_CAPTURED_AT),
        content_range=request.headers.get("content-range"),
        body=b"".join(chunks),
    )
    with c.upload_gate.enter():
        result = await run_in_threadpool(_store, c, bearer(request), up)
    response.status_code = 201 if result.status == "stored" else 202
    return result


def _store(c: Container, token: str | None, up: service.Upload) -> v1.UploadStatus:
    for attempt in (1, 2):
        try:
            return _store_once(c, token, up)
        except IntegrityError:
            # A retry raced the original request and both created the item: the second attempt
            # sees the first one's row and answers idempotently.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store_once(c: Container, token: str | None, up: service.Upload) -> v1.UploadStatus:
    now = utcnow()
    session_id = None
    try:
        with c.uow() as db:
            session: ExamSession = sessions.authenticate(db, token)
            session_id = session.id
            result = service.put(db, c.store, session, up, now)
    except service.Rejected as rejected:
        assert session_id is not None
        with c.uow() as db:
            service.forget(db, session_id, up.item_id)
        problem = rejected.problem
        assert isinstance(problem, DomainError)
        raise problem from None
    if result.status == "stored":
        analysis.enqueue(c, "item", f"{session_id}/{up.item_id}")
    return result


@staff_router.get("/sessions/{session_id}/evidence")
def list_evidence(
    session_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, object]:
    now = utcnow()
    with c.uow() as db:
        session = db.get(ExamSession, session_id)
        if session is None:
            raise NotFound("No such session.")
        access.require(db, staff, exams_repo.get(db, session.exam_id), access.Purpose.EVIDENCE, now)
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
        item = repository.get(db, item_id)
        if item is None:
            raise Forbidden("You do not have access to this exam's data.")
        access.require(db, staff, exams_repo.get(db, item.exam_id), access.Purpose.EVIDENCE, now)
        subject_requests.check_not_restricted(db, item.session_id)
        item, data = service.read_for_staff(db, c.store, item_id, staff.id, now)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Invigil-Kind": item.kind, "Invigil-Sha256": item.sha256, "Cache-Control": "no-store"},
    )
