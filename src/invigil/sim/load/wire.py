"""A lean protocol v1 client for the load test: plain HTTP/1.1 on asyncio protocols.

``AgentClient`` (httpx) costs about 2 ms of CPU per request, as much as the server it measures, and
the load generator shares the machine with the server. This client sends the same requests (same
paths, headers and JSON bodies as docs/protocol.md) over keep-alive connections, and reads the
answers with nothing but a status line, ``Content-Length`` (or chunks) and ``json.loads``. It raises
the same ``TransientError`` and ``ProtocolError`` as ``AgentClient``, so retries and error counts are
the same.

Each connection is an ``asyncio.Protocol``: a request is one ``transport.write``, and the answer
resolves one future when its last byte arrives. Asyncio's streams (``readuntil``, ``drain``, a
context manager and an ``asyncio.timeout`` per request) cost about a third more of the generator's
CPU, which it would take from the server it measures (docs/benchmarks.md).

Connections come from a ``ConnectionPool``: one shared by all simulated agents (what the server
sees behind a TLS-terminating reverse proxy, the documented deployment), or one per agent with a
single connection (what it sees when every agent connects directly). Idle connections are dropped
after ``IDLE_SECONDS``, before the server's 5 s keep-alive ends, so a reused connection is never one
the server is closing. The timeout covers the whole call: waiting for a free connection,
connecting, and the exchange.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from invigil.agent.client import ProtocolError, TransientError
from invigil.kit.clock import iso
from invigil.protocol import v1

IDLE_SECONDS = 4.0
MAX_HEAD = 64 * 1024  # a longer response head is not an answer from our server
_TRANSPORT_ERRORS = (OSError, EOFError, TimeoutError)

_Answer = tuple[int, bytes, bool]  # status, body, whether the server closes the connection


class _BadResponse(OSError):
    """The bytes on the connection are not an HTTP/1.1 answer we can read."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request on it at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[_Answer] | None = None
        self.used_at = time.monotonic()
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return  # nobody asked: the connection is closed when it is given back
        try:
            answer = _parse(self.buffer)
        except _BadResponse as exc:
            waiter.set_exception(exc)
            return
        if answer is not None:
            waiter.set_result(answer)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc or ConnectionResetError("the server closed the connection"))

    def send(self, request: bytes) -> asyncio.Future[_Answer]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _parse(buffer: bytearray) -> _Answer | None:
    """A whole answer from the start of ``buffer`` (and removed from it), or None: not all here yet."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise _BadResponse("response head too long")
        return None
    head = bytes(buffer[:end])
    if not head.startswith(b"HTTP/1.") or len(head) < 12 or not head[9:12].isdigit():
        raise _BadResponse(f"not an HTTP/1.1 status line: {head[:40]!r}")
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
    start = end + 4
    if chunked:
        body, consumed = _dechunk(buffer, start)
        if body is None:
            return None
        del buffer[:consumed]
        return status, body, close
    if len(buffer) < start + length:
        return None
    body = bytes(buffer[start : start + length])
    del buffer[: start + length]
    return status, body, close


def _dechunk(buffer: bytearray, at: int) -> tuple[bytes | None, int]:
    parts: list[bytes] = []
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None, 0
        try:
            size = int(bytes(buffer[at:line_end]).split(b";", 1)[0], 16)
        except ValueError as exc:
            raise _BadResponse("bad chunk size") from exc
        at = line_end + 2
        if size == 0:  # then trailers, if any, and an empty line
            end = buffer.find(b"\r\n\r\n", at - 2)
            return (None, 0) if end < 0 else (b"".join(parts), end + 4)
        if len(buffer) < at + size + 2:
            return None, 0
        parts.append(bytes(buffer[at : at + size]))
        at += size + 2


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

    async def exchange(self, request: bytes, timeout: float) -> tuple[int, bytes]:
        """Send one request and read its answer, within ``timeout`` seconds all told."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if self._slots.locked():  # the slow path: wait for a free connection, within the time
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        else:
            await self._slots.acquire()
        conn: _Connection | None = None
        reusable = False
        try:
            conn = self._take_idle()
            if conn is None:
                async with asyncio.timeout_at(deadline):
                    _, conn = await loop.create_connection(_Connection, self.host, self.port)
            answer = conn.send(request)
            timer = loop.call_at(deadline, _expire, answer)
            try:
                status, body, close = await answer
            finally:
                timer.cancel()
            reusable = not close
            return status, body  # an answer with "Connection: close" is still good
        finally:
            if conn is not None:
                self._give_back(conn, reusable)
            self._slots.release()

    def _take_idle(self) -> _Connection | None:
        limit = time.monotonic() - IDLE_SECONDS
        while self._idle:
            conn = self._idle.pop()  # the most recently used one is the least likely to be stale
            if conn.used_at >= limit and not conn.lost and not conn.buffer:
                return conn
            conn.close()
        return None

    def _give_back(self, conn: _Connection, reusable: bool) -> None:
        conn.waiter = None
        if reusable and not conn.lost:
            conn.used_at = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()  # state unknown (error, timeout, stray bytes) or closed by the server

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


def _expire(answer: asyncio.Future[_Answer]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError("no answer in time"))


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
            status, data = await self.pool.exchange(request, self.timeout)
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
