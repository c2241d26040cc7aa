"""Sealed assignments: upload (coordinators, admins) and download and progress (agents)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError

from invigil.accounts.endpoints import current_staff
from invigil.accounts.models import Staff
from invigil.assignments import repository, service
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import bearer, container
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import Conflict, NotFound, PayloadTooLarge
from invigil.protocol import assignment as proto
from invigil.protocol import v1
from invigil.sessions import service as sessions

staff_router = APIRouter(prefix="/api/v1/staff/exams", tags=["staff"])
agent_router = APIRouter(prefix=v1.PREFIX, tags=["agent"])
router = APIRouter()  # both, for create_app


def _summary(stored: service.Stored, exam_id: str) -> dict[str, Any]:
    s = stored.set
    return {
        "exam_id": exam_id,
        "status": "replaced" if stored.replaced else "uploaded",
        "version": s.version,
        "digest": s.digest,
        "uploaded_at": iso(s.uploaded_at),
        "kdf": {"alg": "argon2id", **s.kdf},
        "salt": s.salt,
        "bytes": s.bytes,
        "files": [
            {"index": f.position, "name": f.name, "size": f.size, "sha256": f.sha256} for f in stored.files
        ],
    }


@staff_router.put("/{exam_id}/assignment-set")
async def upload_assignment(
    exam_id: str, request: Request, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Sealed files one after another (see `invigil assignment upload`). Replaces any earlier upload
    until the exam starts. The body is ciphertext only: the PIN never comes to the server."""
    limit = c.settings.max_request_bytes
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(
                f"An assignment may be at most {limit // 1024} KiB sealed (INVIGIL_MAX_REQUEST_BYTES). "
                "Make the files smaller, for example by compressing the PDFs."
            )
        chunks.append(chunk)
    body, sha256 = b"".join(chunks), request.headers.get(v1.H_SHA256, "").lower()
    return await run_in_threadpool(_store, c, staff, exam_id, body, sha256)


def _store(c: Container, staff: Staff, exam_id: str, body: bytes, sha256: str) -> dict[str, Any]:
    now = utcnow()
    try:
        with c.uow() as db:
            exam = access.require(db, staff, exams_repo.get(db, exam_id), access.Purpose.MANAGE, now)
            stored = service.store_set(db, c.store, exam, staff, body, sha256, now)
    except IntegrityError as exc:  # two first uploads for one exam at the same moment
        raise Conflict("Another upload for this exam arrived at the same moment; send yours again.") from exc
    for key in stored.stale_blobs:  # only after the new version is committed
        with contextlib.suppress(OSError):
            c.store.delete(key)
    return _summary(stored, exam_id)


@staff_router.get("/{exam_id}/assignment-set")
def assignment_info(
    exam_id: str, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> dict[str, Any]:
    """Names, sizes, SHA-256 and KDF parameters of the sealed assignment (never its content)."""
    with c.uow() as db:
        access.require(db, staff, exams_repo.get(db, exam_id), access.Purpose.MANAGE, utcnow())
        current = repository.set_for_exam(db, exam_id)
        if current is None:
            raise NotFound("This exam has no assignment yet.")
        stored = service.Stored(current, list(repository.files(db, current.id)), current.version > 1, [])
        return _summary(stored, exam_id)


@agent_router.get("/assignment", response_model=proto.AssignmentManifest)
def agent_manifest(request: Request, c: Container = Depends(container)) -> proto.AssignmentManifest:
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        return service.manifest(db, session.exam_id)


@agent_router.get("/assignment/files/{index}", response_class=Response)
def agent_file(index: int, request: Request, c: Container = Depends(container)) -> Response:
    """One sealed file of the candidate's own exam, as uploaded."""
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        row, data = service.read_file(db, c.store, session.exam_id, index)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={v1.H_SHA256: row.sha256, "Cache-Control": "no-store"},
    )


@agent_router.post("/assignment/received", response_model=proto.AssignmentProgress)
def agent_received(
    body: proto.AssignmentConfirm, request: Request, c: Container = Depends(container)
) -> proto.AssignmentProgress:
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        return service.received(db, session, body.digest, utcnow())


@agent_router.post("/assignment/opened", response_model=proto.AssignmentProgress)
def agent_opened(
    body: proto.AssignmentConfirm, request: Request, c: Container = Depends(container)
) -> proto.AssignmentProgress:
    with c.uow() as db:
        session = sessions.authenticate(db, bearer(request))
        return service.opened(db, session, body.digest, utcnow())


router.include_router(staff_router)
router.include_router(agent_router)
