"""Activation, heartbeat, event batch and evidence upload as plain ASGI, ahead of FastAPI's routing.

These four are nearly every request an agent makes (10,000 candidates ≈ 2,200 a second, and two
activations each in the half hour before the exam). Through
FastAPI each paid for routing over every route, the dependency solver, request and response model
machinery and several middleware layers: about a fifth of the server's CPU in the profile
(docs/benchmarks.md, docs/adr/0011-lean-hot-path.md). Here the path is matched with two string
comparisons, the body is validated with the protocol model's ``model_validate_json`` and the answer
serialized with ``model_dump_json``; the work itself is ``ingest.py``, the same functions the
FastAPI endpoints call, so no rule exists twice. Errors are rendered by the same functions as
FastAPI's exception handlers (http.py), so clients see identical answers.

Anything not matched exactly (another method, a path with more segments, a body that says it is
not JSON) goes on to FastAPI, which answers as before. The layer sits inside ``BodyLimit`` and
Starlette's error middleware, so the request size limit and the 500 answer are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from invigil import ingest
from invigil.container import Container
from invigil.http import (
    STORAGE_RETRY_AFTER,
    bearer_token,
    domain_error_headers,
    scope_bucket,
    storage_problem,
    validation_problem,
)
from invigil.kit.errors import DomainError
from invigil.protocol import v1

_ACTIVATE = v1.PREFIX + "/activate"
_HEARTBEAT = v1.PREFIX + "/heartbeat"
_EVENTS = v1.PREFIX + "/events"
_EVIDENCE = v1.PREFIX + "/evidence/"

_Handler = Callable[[Scope, Receive, Send], Awaitable[None]]


class _Disconnected(Exception):
    """The client went away before sending its whole body: there is nobody to answer."""


class HotRoutes:
    """ASGI middleware: serve the three hot agent requests, hand everything else to ``app``."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app, self.c = app, container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._route(scope) if scope["type"] == "http" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            await handler(scope, receive, send)
        except _Disconnected:
            return

    def _route(self, scope: Scope) -> _Handler | None:
        method, path = scope["method"], scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if method == "POST" and path in (_HEARTBEAT, _EVENTS, _ACTIVATE):
            if not _json_or_unsaid(scope):
                return None  # FastAPI decides what a non-JSON body means, as before
            return {_HEARTBEAT: self._heartbeat, _EVENTS: self._events, _ACTIVATE: self._activate}[path]
        if method == "PUT" and path.startswith(_EVIDENCE):
            item_id = path[len(_EVIDENCE) :]
            if item_id and "/" not in item_id:
                return self._upload
        return None

    async def _heartbeat(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read(receive, None)
        await _answer(send, lambda: self._json(scope, body, v1.Heartbeat, ingest.heartbeat))

    async def _events(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read(receive, None)
        await _answer(send, lambda: self._json(scope, body, v1.EventBatch, ingest.events))

    async def _activate(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read(receive, None)

        async def work() -> tuple[int, BaseModel]:
            request = v1.ActivateRequest.model_validate_json(body)
            return 200, await ingest.activate(self.c, scope_bucket(scope), request)

        await _answer(send, work)

    async def _json(
        self, scope: Scope, body: bytes, model: type[BaseModel], work: Callable[..., Awaitable[BaseModel]]
    ) -> tuple[int, BaseModel]:
        message = model.model_validate_json(body)
        return 200, await work(self.c, _token(scope), message)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.c.settings.max_request_bytes

        async def work() -> tuple[int, BaseModel]:
            body = await _read(receive, limit)
            item_id = scope["path"].rsplit("/", 1)[1]
            up = ingest.upload_of(item_id, _headers(scope), body)
            return await ingest.upload(self.c, _token(scope), up)

        await _answer(send, work)


def _headers(scope: Scope) -> dict[str, str]:
    """Lower-case names (as ASGI gives them); the first of repeated headers wins, as in Starlette."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}


def _token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bearer_token(value.decode("latin-1"))
    return None


def _json_or_unsaid(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return True


async def _read(receive: Receive, limit: int | None) -> bytes:
    """The whole body; beyond ``limit`` bytes, 413 (``BodyLimit`` outside enforces the general one)."""
    chunks, seen, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        seen += len(chunk)
        if limit is not None and seen > limit:
            raise ingest.too_large(limit)
        chunks.append(chunk)
        more = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer(send: Send, work: Callable[[], Awaitable[tuple[int, BaseModel]]]) -> None:
    """Run the request and send its answer, or the error answer FastAPI's handlers would give."""
    headers: dict[str, str] = {}
    try:
        status, result = await work()
        payload = result.model_dump_json().encode()
    except DomainError as exc:
        status, payload, headers = exc.status, _render(exc.to_dict()), domain_error_headers(exc)
    except ValidationError as exc:
        status, payload = 422, _render(validation_problem(exc.errors()))
    except OSError as exc:
        status, payload = 503, _render(storage_problem(exc))
        headers = {"Retry-After": STORAGE_RETRY_AFTER}
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _render(content: dict[str, Any]) -> bytes:
    """Exactly as Starlette's ``JSONResponse`` renders."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()
