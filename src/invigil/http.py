"""FastAPI glue shared by every domain's endpoints: the container, auth, errors, body limits."""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from invigil.config import Settings
from invigil.container import Container
from invigil.kit.errors import DomainError, PayloadTooLarge, Unauthorized
from invigil.kit.minimal import network_of


async def container(request: Request) -> Container:
    """Async on purpose: a plain ``def`` dependency costs every request a trip through the thread pool."""
    return request.app.state.container  # type: ignore[no-any-return]


def bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization", ""))


def bearer_token(authorization: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require_bearer(request: Request) -> str:
    token = bearer(request)
    if token is None:
        raise Unauthorized("Log in first: this request needs 'Authorization: Bearer <token>'.")
    return token


def client_bucket(request: Request) -> str:
    """The client's network, never its full address (kit/minimal.py)."""
    return scope_bucket(request.scope)


def scope_bucket(scope: Scope) -> str:
    """``client_bucket`` of a plain ASGI request (hotroutes.py)."""
    client = scope.get("client")
    return network_of(client[0] if client else "unknown")


def domain_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=domain_error_headers(exc))


def domain_error_headers(exc: DomainError) -> dict[str, str]:
    headers = {}
    if "retry_after" in exc.detail:
        headers["Retry-After"] = str(exc.detail["retry_after"])
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return headers


STORAGE_RETRY_AFTER = "30"


def storage_problem(exc: OSError) -> dict[str, str]:
    """A full or failing disk is the server's problem, never the candidate's: 503, retry later."""
    if exc.errno == errno.ENOSPC:
        message = "The server's storage is full. Nothing was lost: the agent keeps the data and retries."
    else:
        message = "The server could not store the data right now. Nothing was lost: the agent retries."
    logging.getLogger("invigil.storage").error("storage error: %s", exc)
    return {"error": "storage_unavailable", "message": message}


def storage_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OSError)
    return JSONResponse(storage_problem(exc), status_code=503, headers={"Retry-After": STORAGE_RETRY_AFTER})


def validation_problem(errors: Sequence[Any]) -> dict[str, str]:
    """The 422 answer to a body that does not fit its model, from pydantic's or FastAPI's errors."""
    problems = []
    for err in errors[:20]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return {"error": "invalid", "message": "The request is not valid: " + "; ".join(problems)}


def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(validation_problem(exc.errors()), status_code=422)


def general_body_limit(settings: Settings) -> int:
    """What ``BodyLimit`` lets through for any request: a little above an upload's own limit, so an
    upload just over that gets the upload's own, more helpful 413 (hotroutes.py)."""
    return settings.max_request_bytes + 64 * 1024


class BodyLimit:
    """Refuse request bodies above ``limit`` bytes with 413, whether or not they announce a length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await _send_413(send, self.limit)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _send_413(send, self.limit)


class _TooLarge(Exception):
    pass


async def _send_413(send: Send, limit: int) -> None:
    body = PayloadTooLarge(f"Request bodies are limited to {limit} bytes; send large items in chunks.")
    payload = json.dumps(body.to_dict()).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
