"""A lean protocol v1 client for the load test: plain HTTP/1.1 over asyncio streams.

``AgentClient`` (httpx) costs about 2 ms of CPU per request, as much as the server it measures, and
the load generator shares the machine with the server. This client sends the same requests (same
paths, headers and JSON bodies as docs/protocol.md) over keep-alive connections, and reads the
answers with nothing but a status line, ``Content-Length`` and ``json.loads``. It raises the same
``TransientError`` and ``ProtocolError`` as ``AgentClient``, so retries and error counts are the same.

Connections come from a ``ConnectionPool``: one shared by all simulated agents (what the server
sees behind a TLS-terminating reverse proxy, the documented deployment), or one per agent with a
single connection (what it sees when every agent connects directly). Idle connections are dropped
after ``IDLE_SECONDS``, before the server's 5 s keep-alive ends, so a reused connection is never one
the server is closing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from invigil.agent.client import ProtocolError, TransientError
from invigil.kit.clock import iso
from invigil.protocol import v1

IDLE_SECONDS = 4.0
_TRANSPORT_ERRORS = (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class _Connection:
    __slots__ = ("reader", "used_at", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.used_at = reader, writer, time.monotonic()

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """At most ``size`` keep-alive connections to one server; callers wait for a free one."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the load test speaks plain HTTP to loopback, not {url!r}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.host_header = f"Host: {self.host}:{self.port}\r\n"
        self._idle: deque[_Connection] = deque()
        self._slots = asyncio.Semaphore(size)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[_Connection]:
        async with self._slots:
            conn = self._take_idle() or _Connection(*await asyncio.open_connection(self.host, self.port))
            try:
                yield conn
            except BaseException:
                conn.close()  # state unknown: never reuse
                raise
            conn.used_at = time.monotonic()
            self._idle.append(conn)

    def _take_idle(self) -> _Connection | None:
        limit = time.monotonic() - IDLE_SECONDS
        while self._idle:
            conn = self._idle.pop()  # the most recently used one is the least likely to be stale
            if conn.used_at >= limit and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _exchange(pool: ConnectionPool, request: bytes) -> tuple[int, bytes]:
    async with pool.connection() as conn:
        conn.writer.write(request)
        await conn.writer.drain()
        head = await conn.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, close, chunked = 0, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        body = await (_read_chunked(conn.reader) if chunked else conn.reader.readexactly(length))
        if close:
            raise _Closed(status, body)  # not reused; the answer is still good
    return status, body


class _Closed(Exception):
    """The server closes the connection after this answer (the answer is still good)."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class WireClient:
    """The four calls the load test makes, with ``AgentClient``'s errors and answers."""

    def __init__(self, pool: ConnectionPool, timeout: float) -> None:
        self.pool, self.timeout = pool, timeout
        self._auth = ""

    def authorize(self, token: str) -> None:
        self._auth = f"Authorization: Bearer {token}\r\n"

    async def _send(self, method: str, path: str, headers: str, body: bytes) -> dict[str, Any]:
        request = (
            f"{method} {v1.PREFIX}{path} HTTP/1.1\r\n{self.pool.host_header}User-Agent: invigil-loadtest\r\n"
            f"{self._auth}{headers}Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            async with asyncio.timeout(self.timeout):
                status, data = await _exchange(self.pool, request)
        except _Closed as closed:
            status, data = closed.status, closed.body
        except _TRANSPORT_ERRORS as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if status in (429, 502, 503, 504) or status >= 500:
            raise TransientError(f"server answered {status}")
        try:
            answer = json.loads(data)
        except ValueError:
            answer = {"message": data[:200].decode(errors="replace")}
        if not isinstance(answer, dict):
            answer = {"message": answer}
        if status >= 400:
            raise ProtocolError(status, answer)
        return answer

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self._send("POST", path, "Content-Type: application/json\r\n", body)

    async def activate(
        self, code: str, session_secret: str, agent: dict[str, str], candidate_public_key: str
    ) -> v1.ActivateResponse:
        payload = {
            "code": code,
            "session_secret": session_secret,
            "agent": agent,
            "candidate_public_key": candidate_public_key,
        }
        try:
            answer = await self._post("/activate", payload)
        except ProtocolError as exc:
            if exc.status != 409 or exc.body.get("error") != "notice":
                raise
            # A real agent shows the notice (AgentClient.activate); a load-test candidate accepts it.
            answer = await self._post("/activate", {**payload, "notice_version": exc.body["notice_version"]})
        return v1.ActivateResponse.model_validate(answer)

    async def heartbeat(self, seq: int, sent_at: datetime) -> str:
        answer = await self._post("/heartbeat", {"seq": seq, "sent_at": iso(sent_at)})
        return str(answer["state"])

    async def events(self, events: list[dict[str, Any]]) -> tuple[int, int]:
        answer = await self._post("/events", {"events": events})
        return int(answer["accepted"]), int(answer["duplicates"])

    async def put_evidence(
        self, item_id: str, kind: str, sha256: str, captured_at: datetime, body: bytes
    ) -> str:
        headers = (
            f"{v1.H_KIND}: {kind}\r\n{v1.H_SHA256}: {sha256}\r\n{v1.H_SIZE}: {len(body)}\r\n"
            f"{v1.H_CAPTURED_AT}: {iso(captured_at)}\r\nContent-Type: application/octet-stream\r\n"
        )
        answer = await self._send("PUT", f"/evidence/{item_id}", headers, body)
        return str(answer["status"])
