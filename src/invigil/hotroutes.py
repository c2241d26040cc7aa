"""Activation, heartbeat, event batch and evidence upload without FastAPI's routing: their HTTP shape
in one place, for the two ways in that skip FastAPI.

These four are nearly every request an agent makes (10,000 candidates ≈ 2,200 a second, and two
activations each in the half hour before the exam). Through FastAPI each paid for routing over
every route, the dependency solver, request and response model machinery and several middleware
layers: about a fifth of the server's CPU in the profile (docs/benchmarks.md,
docs/adr/0011-lean-hot-path.md). Here the path is matched with string comparisons (``match``), the
body is validated with the protocol model's ``model_validate_json`` and the answer serialized with
``model_dump_json`` (``serve``); the work itself is ``ingest.py``, the same functions the FastAPI
endpoints call, so no rule exists twice. Errors are rendered by the same functions as FastAPI's
exception handlers (http.py), so clients see identical answers.

Two ways in use ``serve``:

* ``HotRoutes``, plain ASGI middleware ahead of FastAPI. It sits inside ``BodyLimit`` and
  Starlette's error middleware, so the request size limit and the 500 answer are unchanged.
* ``hotwire.HotWireProtocol``, uvicorn's HTTP protocol answering heartbeats, event batches and
  uploads straight from the parser, without ASGI (docs/adr/0026-agent-requests-from-the-parser.md).
  What it does not take on reaches ``HotRoutes`` as ASGI.

Anything not matched exactly (another method, a path with more segments, a body that says it is
not JSON) goes on to FastAPI, which answers as before.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from invigil import ingest
from invigil.config import Settings
from invigil.container import Container
from invigil.http import (
    STORAGE_RETRY_AFTER,
    bearer_token,
    domain_error_headers,
    general_body_limit,
    scope_bucket,
    storage_problem,
    validation_problem,
)
from invigil.kit.errors import DomainError
from invigil.protocol import v1

ACTIVATE, HEARTBEAT, EVENTS, UPLOAD = "activate", "heartbeat", "events", "upload"
_JSON_ROUTES = {v1.PREFIX + "/" + kind: kind for kind in (ACTIVATE, HEARTBEAT, EVENTS)}
_EVIDENCE = v1.PREFIX + "/evidence/"

Headers = Sequence[tuple[bytes, bytes]]  # lower-case names, in the order received (ASGI's form)
Reader = Callable[[int | None], Awaitable[bytes]]  # the whole body; beyond a limit, ingest.too_large


class Answer(NamedTuple):
    status: int
    payload: bytes
    headers: list[tuple[bytes, bytes]]  # content-type and content-length included


def match(method: str, path: str, content_type: bytes | None) -> str | None:
    """Which hot request this is (``content_type``: the first Content-Type header), or None."""
    if method == "POST":
        kind = _JSON_ROUTES.get(path)
        if kind is not None and (content_type is None or b"json" in content_type.lower()):
            return kind  # a body that says it is not JSON: FastAPI decides what it means, as before
        return None
    if method == "PUT" and path.startswith(_EVIDENCE):
        item_id = path[len(_EVIDENCE) :]
        if item_id and "/" not in item_id:
            return UPLOAD
    return None


def body_limit(settings: Settings, kind: str) -> int:
    """The largest body a hot request may have: an upload's own limit, else ``BodyLimit``'s."""
    return settings.max_request_bytes if kind == UPLOAD else general_body_limit(settings)


def first_header(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


async def serve(
    c: Container, kind: str, path: str, headers: Headers, read: Reader, bucket: Callable[[], str]
) -> Answer:
    """Answer one hot request, or give the error answer FastAPI's handlers would. ``bucket``: the
    client's network, for activation's wrong-code rate limit (http.client_bucket)."""
    extra: dict[str, str] = {}
    try:
        status, result = await _work(c, kind, path, headers, read, bucket)
        payload = result.model_dump_json().encode()
    except DomainError as exc:
        status, payload, extra = exc.status, _render(exc.to_dict()), domain_error_headers(exc)
    except ValidationError as exc:
        status, payload = 422, _render(validation_problem(exc.errors()))
    except OSError as exc:
        status, payload = 503, _render(storage_problem(exc))
        extra = {"Retry-After": STORAGE_RETRY_AFTER}
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    return Answer(status, payload, raw)


async def _work(
    c: Container, kind: str, path: str, headers: Headers, read: Reader, bucket: Callable[[], str]
) -> tuple[int, BaseModel]:
    if kind == UPLOAD:
        body = await read(c.settings.max_request_bytes)
        up = ingest.upload_of(path.rsplit("/", 1)[1], _header_map(headers), body)
        return await ingest.upload(c, _token(headers), up)
    body = await read(None)
    if kind == HEARTBEAT:
        return 200, await ingest.heartbeat(c, _token(headers), v1.Heartbeat.model_validate_json(body))
    if kind == EVENTS:
        return 200, await ingest.events(c, _token(headers), v1.EventBatch.model_validate_json(body))
    return 200, await ingest.activate(c, bucket(), v1.ActivateRequest.model_validate_json(body))


def _header_map(headers: Headers) -> dict[str, str]:
    """Lower-case names (as ASGI gives them); the first of repeated headers wins, as in Starlette."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(headers)}


def _token(headers: Headers) -> str | None:
    value = first_header(headers, b"authorization")
    return None if value is None else bearer_token(value.decode("latin-1"))


def _render(content: dict[str, Any]) -> bytes:
    """Exactly as Starlette's ``JSONResponse`` renders."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


# -- the ASGI way in ---------------------------------------------------------------------------------


class _Disconnected(Exception):
    """The client went away before sending its whole body: there is nobody to answer."""


class HotRoutes:
    """ASGI middleware: serve the hot agent requests, hand everything else to ``app``."""

    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app, self.c = app, container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = None
        if scope["type"] == "http":
            kind = match(scope["method"], _path(scope), first_header(scope["headers"], b"content-type"))
        if kind is None:
            await self.app(scope, receive, send)
            return

        async def read(limit: int | None) -> bytes:
            return await _read(receive, limit)

        def bucket() -> str:
            return scope_bucket(scope)

        try:
            answer = await serve(self.c, kind, _path(scope), scope["headers"], read, bucket)
        except _Disconnected:
            return
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.payload})


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


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
