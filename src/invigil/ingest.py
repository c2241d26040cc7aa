"""The agent requests that arrive by the thousand — activation (in a burst before the exam),
heartbeat, event batch, evidence upload — from a parsed request to its answer, in one place for
both ways in: the FastAPI endpoints (which also document them in OpenAPI) and the plain ASGI routes
in front of FastAPI (``hotroutes.py``).

No web framework here: the callers pass the bearer token, the validated body, the headers (a
mapping with lower-case names) and the raw body, and turn the answer or the ``DomainError`` into a
response. Activation is a unit of group commit in its common case (sessions/fastactivate.py), else
``service.activate`` on the thread pool. Heartbeats and event batches are units of group commit
(kit/groupcommit.py) that share their statements with the others of their kind in the same batch
(sessions/batched.py); an upload writes its blob on the thread pool and its row through group commit
when it can (evidence/hotpath.py), else through ``service.put`` on the thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from anyio import to_thread
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from invigil.container import Container
from invigil.evidence import hotpath as evidence_hotpath
from invigil.evidence import service as evidence
from invigil.flags import queue as analysis
from invigil.kit.clock import utcnow
from invigil.kit.errors import BadRequest, DomainError, PayloadTooLarge
from invigil.protocol import v1
from invigil.sessions import batched, fastactivate, ratelimit, service
from invigil.sessions.models import ExamSession


def limits(c: Container) -> service.Limits:
    s = c.settings
    return service.Limits(s.heartbeat_interval_seconds, s.max_request_bytes, s.offline_after_seconds)


async def activate(c: Container, bucket: str, req: v1.ActivateRequest) -> v1.ActivateResponse:
    """``bucket``: the client's network, for the wrong-code rate limit (http.client_bucket)."""
    now, s = utcnow(), c.settings

    def fast(db: Session) -> v1.ActivateResponse | DomainError | None:
        window = s.activation_window_seconds
        return fastactivate.attempt(db, req, bucket, now, limits(c), s.activation_max_failures, window)

    answer = await c.writer.run(fast)
    if isinstance(answer, DomainError):
        raise answer
    if answer is not None:
        return answer
    return await to_thread.run_sync(_activate, c, bucket, req, now)


def _activate(c: Container, bucket: str, req: v1.ActivateRequest, now: datetime) -> v1.ActivateResponse:
    """The full path, after the fast attempt of the same request checked the wrong-code limit."""
    s = c.settings
    try:
        with c.uow() as db:
            return service.activate(db, req, now, limits(c))
    except service.WrongCode:
        with c.uow() as db:
            ratelimit.record_failure(db, bucket, now, s.activation_window_seconds)
        raise


async def heartbeat(c: Container, token: str | None, body: v1.Heartbeat) -> v1.HeartbeatAck:
    return await c.writer.run_batched(batched.HEARTBEATS, batched.Heartbeat(token, body, utcnow()))


async def events(c: Container, token: str | None, body: v1.EventBatch) -> v1.EventBatchAck:
    item = batched.EventBatch(token, body, utcnow(), c.settings.max_event_batch)
    ack, session_id = await c.writer.run_batched(batched.EVENT_BATCHES, item)
    analysis.enqueue(c, "session", session_id)
    return ack


# -- evidence upload -------------------------------------------------------------------------------


def _header_int(headers: Mapping[str, str], name: str) -> int:
    try:
        value = int(headers[name.lower()])
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Header {name} is required and must be a whole number.") from exc
    if value < 0:
        raise BadRequest(f"Header {name} must not be negative.")
    return value


def _header_time(headers: Mapping[str, str], name: str) -> datetime:
    try:
        value = datetime.fromisoformat(headers[name.lower()].replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"Header {name} is required and must be an ISO 8601 time.") from exc
    if value.tzinfo is None:
        raise BadRequest(f"Header {name} needs a time zone offset.")
    return value


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"A single request may carry at most {limit} bytes; send chunks.")


def upload_of(item_id: str, headers: Mapping[str, str], body: bytes) -> evidence.Upload:
    """The upload a request describes; the body was already read within the size limit."""
    return evidence.Upload(
        item_id=item_id,
        kind=headers.get(v1.H_KIND.lower(), ""),
        sha256=headers.get(v1.H_SHA256.lower(), "").lower(),
        size=_header_int(headers, v1.H_SIZE),
        captured_at=_header_time(headers, v1.H_CAPTURED_AT),
        content_range=headers.get("content-range"),
        body=body,
    )


async def upload(c: Container, token: str | None, up: evidence.Upload) -> tuple[int, v1.UploadStatus]:
    """-> (HTTP status: 201 stored, 202 partial; the status)."""
    with c.upload_gate.enter():
        answer = await _upload_fast(c, token, up)
        if answer is None:
            answer = await to_thread.run_sync(_store, c, token, up)
    result, session_id = answer
    if result.status == "stored":
        analysis.enqueue(c, "item", f"{session_id}/{up.item_id}")
    return (201 if result.status == "stored" else 202), result


_Answer = tuple[v1.UploadStatus, str]  # the answer, and the id of the uploader's session


async def _upload_fast(c: Container, token: str | None, up: evidence.Upload) -> _Answer | None:
    prepared = await to_thread.run_sync(_prepare, c, token, up)
    if prepared is None:
        return None
    status = await c.writer.run(prepared.commit)
    if status is None:
        await to_thread.run_sync(evidence_hotpath.discard, c.store, prepared)
        return None
    return status, prepared.session_id


def _prepare(c: Container, token: str | None, up: evidence.Upload) -> evidence_hotpath.Prepared | None:
    with c.uow() as db:
        return evidence_hotpath.prepare(db, c.store, token, up, utcnow())


def _store(c: Container, token: str | None, up: evidence.Upload) -> _Answer:
    for attempt in (1, 2):
        try:
            return _store_once(c, token, up)
        except IntegrityError:
            # A retry raced the original request and both created the item: the second attempt
            # sees the first one's row and answers idempotently.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store_once(c: Container, token: str | None, up: evidence.Upload) -> _Answer:
    now = utcnow()
    session_id = ""
    try:
        with c.uow() as db:
            session: ExamSession = service.authenticate(db, token)
            session_id = session.id
            result = evidence.put(db, c.store, session, up, now)
    except evidence.Rejected as rejected:
        assert session_id
        with c.uow() as db:
            evidence.forget(db, session_id, up.item_id)
        problem = rejected.problem
        assert isinstance(problem, DomainError)
        raise problem from None
    return result, session_id
