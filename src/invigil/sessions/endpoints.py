"""Agent protocol v1: activate, heartbeat, keys, events, hand-in, close (docs/protocol.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from invigil import ingest
from invigil.container import Container
from invigil.flags import queue as analysis
from invigil.http import bearer, client_bucket, container
from invigil.kit.clock import utcnow
from invigil.protocol import v1
from invigil.sessions import service

router = APIRouter(prefix=v1.PREFIX, tags=["agent"])


# Activations, heartbeats and events are small and many: they go through group commit
# (kit/groupcommit.py). In a served app the plain ASGI routes (hotroutes.py) answer them before
# FastAPI is reached; these endpoints document them and serve any app built without that layer.
# Both call ingest.py.


@router.post("/activate", response_model=v1.ActivateResponse)
async def activate(
    body: v1.ActivateRequest, request: Request, c: Container = Depends(container)
) -> v1.ActivateResponse:
    return await ingest.activate(c, client_bucket(request), body)


@router.post("/heartbeat", response_model=v1.HeartbeatAck)
async def heartbeat(
    body: v1.Heartbeat, request: Request, c: Container = Depends(container)
) -> v1.HeartbeatAck:
    return await ingest.heartbeat(c, bearer(request), body)


@router.get("/keys", response_model=v1.KeySet)
def keys(request: Request, c: Container = Depends(container)) -> v1.KeySet:
    """The exam's current keys; the agent asks when a heartbeat answer shows a new generation."""
    with c.uow() as db:
        session = service.authenticate(db, bearer(request))
        return service.keys(db, session, utcnow())


@router.post("/events", response_model=v1.EventBatchAck)
async def events(
    body: v1.EventBatch, request: Request, c: Container = Depends(container)
) -> v1.EventBatchAck:
    return await ingest.events(c, bearer(request), body)


@router.post("/handin", response_model=v1.Receipt)
def handin(body: v1.HandinRequest, request: Request, c: Container = Depends(container)) -> v1.Receipt:
    with c.uow() as db:
        session = service.authenticate(db, bearer(request))
        receipt = service.handin(db, session, body, utcnow(), c.signer, c.settings.effective_public_url)
    for job, arg in (("session", session.id), ("stream", session.id), ("handins", session.exam_id)):
        analysis.enqueue(c, job, arg)
    return receipt


@router.post("/close")
def close(body: v1.CloseRequest, request: Request, c: Container = Depends(container)) -> dict[str, str]:
    with c.uow() as db:
        session = service.authenticate(db, bearer(request))
        state = service.close(db, session, utcnow())
    analysis.enqueue(c, "session", session.id)
    analysis.enqueue(c, "stream", session.id)  # the frames of the tail period, too
    return {"state": state}
