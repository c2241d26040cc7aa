"""uvicorn's HTTP protocol, answering the commonest agent requests straight from the parser.

Heartbeats, event batches and whole-item uploads are nearly every request a node serves. Even
through the plain ASGI layer (hotroutes.HotRoutes) each one built an ASGI scope and a request
cycle with its own event, ran as a task through six middleware layers (uvicorn's proxy headers,
FastAPI's and Starlette's wrappers, our body limit), read its body through ``receive`` messages
(an upload's 150 KB in several, with reading paused and resumed between them) and had its answer
checked header by header on the way out. ``HotWireProtocol`` is uvicorn's own httptools protocol
with one change: when the parser has the headers of such a request, the body is collected
directly and the request is answered by ``hotroutes.serve`` — the same function, rules and error
answers as the ASGI way — and the answer is written to the socket in one piece.
docs/adr/0026-agent-requests-from-the-parser.md has the measurements.

It only takes a request when nothing about it is unusual; everything else goes the ASGI way
unchanged, where ``HotRoutes`` or FastAPI answer it exactly as before:

* another request still in flight on the connection (HTTP pipelining keeps its order there);
* no ``Content-Length``, or one above the request's limit (``BodyLimit`` and the upload's own 413
  answer it), chunked bodies, ``Expect: 100-continue``, an upgrade, a percent-encoded path;
* activation (its wrong-code rate limit needs the client's network behind a trusted proxy, which
  uvicorn's proxy-header middleware works out);
* an access log asked for (every request then goes the ASGI way, so the log is complete), or
  uvicorn's ``limit_concurrency`` set.

Anything the served app does around agent requests must therefore live in ``hotroutes.serve`` or
``ingest``, never in an ASGI middleware only. It depends on uvicorn's protocol internals, pinned in
requirements.lock; tests/integration/test_hot_path.py holds both ways to the same answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from invigil import hotroutes
from invigil.container import Container

_TAKEN = frozenset({hotroutes.HEARTBEAT, hotroutes.EVENTS, hotroutes.UPLOAD})
_INTERNAL_ERROR = hotroutes.Answer(
    500,
    b"Internal Server Error",
    [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")],
)


class _NoEvent:
    """uvicorn's protocol sets a cycle's ``message_event`` when the client goes away; nobody waits
    on it here (the answer checks ``disconnected`` before it is written)."""

    __slots__ = ()

    def set(self) -> None:
        pass


class _HotCycle:
    """Stands in for uvicorn's ``RequestResponseCycle`` while a request is answered without ASGI:
    it has every attribute uvicorn's protocol reads or sets on ``self.cycle``."""

    __slots__ = (
        "body",
        "disconnected",
        "headers",
        "keep_alive",
        "kind",
        "more_body",
        "path",
        "response_complete",
    )
    message_event = _NoEvent()

    def __init__(self, kind: str, path: str, headers: list[tuple[bytes, bytes]], keep_alive: bool) -> None:
        self.kind, self.path, self.headers, self.keep_alive = kind, path, headers, keep_alive
        self.body: list[bytes] = []
        self.more_body = True
        self.disconnected = False
        self.response_complete = False


def container_of(app: Any) -> Container | None:
    """The Invigil container of an app as uvicorn loaded it (through uvicorn's own wrappers)."""
    for _ in range(8):
        found = getattr(getattr(app, "state", None), "container", None)
        if isinstance(found, Container):
            return found
        app = getattr(app, "app", None)
        if app is None:
            break
    return None


class HotWireProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.container = container_of(self.app)

    # httptools' callbacks -------------------------------------------------------------------------

    def on_headers_complete(self) -> None:
        cycle = self._hot_cycle()
        if cycle is None:
            super().on_headers_complete()
        else:
            self.cycle = cycle  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is _HotCycle:
            cycle.body.append(body)
        else:
            super().on_body(body)

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if type(cycle) is not _HotCycle:
            super().on_message_complete()
            return
        cycle.more_body = False
        task = self.loop.create_task(self._answer(cycle))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)  # a graceful shutdown waits for it, as for an ASGI request

    # ----------------------------------------------------------------------------------------------

    def _hot_cycle(self) -> _HotCycle | None:
        """A cycle of our own for a request this protocol answers itself, or None (the ASGI way)."""
        c = self.container
        if c is None or self.config.access_log or self.limit_concurrency is not None:
            return None  # no app of ours; every request to be logged; uvicorn's own limit to apply
        if self.pipeline or self.expect_100_continue:
            return None
        if self.cycle is not None and not self.cycle.response_complete:
            return None  # pipelined behind a request still in flight: the ASGI way keeps the order
        method = self.parser.get_method()
        if method not in (b"POST", b"PUT") or self.parser.should_upgrade():
            return None
        raw_path = httptools.parse_url(self.url).path
        if b"%" in raw_path:
            return None
        length = content_type = None
        for name, value in self.headers:
            if name == b"content-length":
                if length is not None:
                    return None
                length = value
            elif name == b"content-type":
                content_type = content_type or value
            elif name == b"transfer-encoding":
                return None
        path = raw_path.decode("ascii")
        kind = hotroutes.match(method.decode("ascii"), path, content_type)
        if kind not in _TAKEN or length is None or not length.isdigit():
            return None
        if int(length) > hotroutes.body_limit(c.settings, kind):
            return None
        keep_alive = self.parser.get_http_version() == "1.1" and self.parser.should_keep_alive()
        return _HotCycle(kind, path, self.headers, keep_alive)

    async def _answer(self, cycle: _HotCycle) -> None:
        body = cycle.body[0] if len(cycle.body) == 1 else b"".join(cycle.body)
        cycle.body = []

        async def read(_limit: int | None) -> bytes:
            return body  # within the limit: its Content-Length was, and httptools holds it to that

        c = self.container
        assert c is not None
        try:
            answer = await hotroutes.serve(c, cycle.kind, cycle.path, cycle.headers, read, _no_bucket)
        except Exception as exc:
            self.logger.error("Exception in an agent request", exc_info=exc)
            answer = _INTERNAL_ERROR
        if cycle.disconnected or self.transport.is_closing():
            return  # the work is done (and committed); there is nobody to tell
        self._write(cycle, answer)

    def _write(self, cycle: _HotCycle, answer: hotroutes.Answer) -> None:
        parts = [STATUS_LINE[answer.status]]
        for name, value in (*self.server_state.default_headers, *answer.headers):
            parts += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            parts.append(b"connection: close\r\n")
        parts += (b"\r\n", answer.payload)
        self.transport.write(b"".join(parts))
        cycle.response_complete = True
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()  # uvicorn's: the keep-alive timer, or the next pipelined request


def _no_bucket() -> str:
    raise AssertionError("activation is not answered by HotWireProtocol")
