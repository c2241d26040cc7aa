"""Agent requests answered straight from the parser (hotwire.py) answer exactly as through ASGI
(uvicorn's own protocol, hotroutes.HotRoutes): the same statuses, headers and bodies, refusals
included; and what the protocol leaves to ASGI (pipelined, chunked, oversized, HTTP/1.0, Expect)
still gets its right answer. Raw sockets, so that the bytes on the wire are what is compared."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from invigil import hotwire
from invigil.kit.clock import iso, utcnow
from invigil.protocol import v1
from tests.factories import ThreadServer, make_exam
from tests.integration.agentkit import Agent, activate

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 200


@pytest.fixture(params=["hotwire", "httptools"])
def served(request, installation) -> Iterator[tuple[str, ThreadServer]]:
    http = hotwire.HotWireProtocol if request.param == "hotwire" else "httptools"
    srv = ThreadServer(installation.container, http=http).start()
    yield request.param, srv
    srv.stop()


@pytest.fixture
def agent(served, installation) -> Agent:
    _, srv = served
    exam = make_exam(installation, n=1)
    with httpx.Client(base_url=srv.url, timeout=20) as http:
        return activate(http, exam.codes[0])


@pytest.fixture
def taken(monkeypatch) -> list[str]:
    """The requests HotWireProtocol answered itself (the server thread runs in this process)."""
    seen: list[str] = []
    answer = hotwire.HotWireProtocol._answer

    async def counting(self, cycle):
        seen.append(cycle.kind)
        await answer(self, cycle)

    monkeypatch.setattr(hotwire.HotWireProtocol, "_answer", counting)
    return seen


_Answer = tuple[int, dict[str, str], bytes]


class _Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buffer = b""

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server closed the connection"
        self.buffer += chunk

    def answer(self) -> _Answer:
        """One response with a Content-Length body."""
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split()[1]), headers, body


def _exchange(port: int, raw: bytes, answers: int = 1) -> list[_Answer]:
    """Send bytes as they are; read ``answers`` responses."""
    conn = _Connection(port)
    try:
        conn.sock.sendall(raw)
        return [conn.answer() for _ in range(answers)]
    finally:
        conn.sock.close()


def _request(method: str, path: str, body: bytes, *headers: str, version: str = "1.1") -> bytes:
    head = [f"{method} {v1.PREFIX}{path} HTTP/{version}", "Host: test", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json(payload: object) -> bytes:
    return json.dumps(payload).encode()


def _beat(seq: int) -> bytes:
    return _json({"seq": seq, "sent_at": iso(utcnow())})


def _comparable(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, dict[str, str], object]:
    status, headers, body = answer
    kept = {k: v for k, v in headers.items() if k not in ("date", "content-length")}
    data = json.loads(body) if headers.get("content-type") == "application/json" else body
    if isinstance(data, dict):
        data.pop("server_time", None)
    return status, kept, data


EXPECTED = {
    # name: (status, the error code, or the keys of a good answer)
    "heartbeat": (200, {"state", "key_generation"}),
    "heartbeat, no token": (401, "unauthorized"),
    "heartbeat, not JSON": (422, "invalid"),
    "heartbeat, wrong shape": (422, "invalid"),
    "events": (200, {"accepted", "duplicates"}),
    "events, repeated id": (422, "invalid"),
    "upload": (201, {"item_id", "status", "received", "size"}),
    "upload, wrong hash": (400, "bad_request"),
    "upload, not an envelope": (422, "invalid"),
}


def test_the_same_answers_both_ways(served, agent, taken):
    """Run on both protocols (the fixture): the same assertions hold hotwire to uvicorn's own."""
    protocol, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    json_type = "Content-Type: application/json"
    item_id, sealed = agent.seal("screenshot", PNG)
    upload_headers = [
        auth,
        f"{v1.H_KIND}: screenshot",
        f"{v1.H_SIZE}: {len(sealed)}",
        f"{v1.H_CAPTURED_AT}: {iso(utcnow())}",
    ]
    event = {"id": f"ev-{uuid.uuid4().hex[:12]}", "type": "input.idle", "at": iso(utcnow())}
    requests = {
        "heartbeat": _request("POST", "/heartbeat", _beat(1), auth, json_type),
        "heartbeat, no token": _request("POST", "/heartbeat", _beat(2), json_type),
        "heartbeat, not JSON": _request("POST", "/heartbeat", b"{seq", auth),
        "heartbeat, wrong shape": _request("POST", "/heartbeat", _json({"seq": 0}), auth),
        "events": _request("POST", "/events", _json({"events": [event]}), auth, json_type),
        "events, repeated id": _request("POST", "/events", _json({"events": [event, event]}), auth),
        "upload": _request(
            "PUT", f"/evidence/{item_id}", sealed, *upload_headers, f"{v1.H_SHA256}: {_sha(sealed)}"
        ),
        "upload, wrong hash": _request(
            "PUT", f"/evidence/{uuid.uuid4().hex}", sealed, *upload_headers, f"{v1.H_SHA256}: {'0' * 64}"
        ),
        "upload, not an envelope": _request(
            "PUT",
            f"/evidence/{uuid.uuid4().hex}",
            b"x" * len(sealed),
            *upload_headers,
            f"{v1.H_SHA256}: {_sha(b'x' * len(sealed))}",
        ),
    }
    for name, raw in requests.items():
        status, headers, body = _comparable(_exchange(srv.port, raw)[0])
        expected_status, expected = EXPECTED[name]
        assert status == expected_status, (name, body)
        assert headers["content-type"] == "application/json"
        assert headers["server"] == "uvicorn"
        assert isinstance(body, dict)
        if isinstance(expected, set):
            assert expected <= set(body), (name, body)
        else:
            assert body["error"] == expected, (name, body)
            assert body["message"]
        if status == 401:
            assert headers["www-authenticate"] == "Bearer"
    assert taken == ([] if protocol == "httptools" else ["heartbeat"] * 4 + ["events"] * 2 + ["upload"] * 3)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_pipelined_requests_are_answered_in_order(served, agent, taken):
    """Three requests in one write: the protocol takes the first, ASGI the ones queued behind it."""
    name, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    raw = b"".join(
        [
            _request("POST", "/heartbeat", _beat(10), auth),
            _request("GET", "/keys", b"", auth),  # not a hot request: FastAPI's
            _request("POST", "/heartbeat", _beat(11), "Authorization: Bearer wrong"),
        ]
    )
    answers = _exchange(srv.port, raw, answers=3)
    assert [a[0] for a in answers] == [200, 200, 401]
    assert "state" in json.loads(answers[0][2])
    assert "keys" in json.loads(answers[1][2])
    assert taken == ([] if name == "httptools" else ["heartbeat"])


def test_what_the_protocol_leaves_to_asgi_is_still_answered(served, agent, installation, taken):
    protocol, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    body = _beat(20)
    chunked = _request(
        "POST",
        "/heartbeat",
        f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n",
        auth,
        "Transfer-Encoding: chunked",
    )
    assert _exchange(srv.port, chunked)[0][0] == 200
    old = _request("POST", "/heartbeat", _beat(21), auth, version="1.0")  # answered, then closed
    status, headers, _ = _exchange(srv.port, old)[0]
    assert (status, headers["connection"]) == (200, "close")
    limit = installation.container.settings.max_request_bytes
    oversized = _request("PUT", f"/evidence/{uuid.uuid4().hex}", b"x" * (limit + 1), auth)
    status, _, answer = _exchange(srv.port, oversized)[0]
    assert status == 413
    assert "send chunks" in json.loads(answer)["message"]  # the upload's own limit, not BodyLimit's
    assert taken == ([] if protocol == "httptools" else ["heartbeat"])  # only the HTTP/1.0 one


def test_a_request_asking_to_close_gets_its_answer_and_the_connection_closes(served, agent):
    _, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    raw = _request("POST", "/heartbeat", _beat(30), auth, "Connection: close")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"connection: close" in head.lower()
    assert "state" in json.loads(body)


def test_keep_alive_serves_many_requests_on_one_connection(served, agent):
    name, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    conn = _Connection(srv.port)
    try:
        for seq in range(40, 60):
            conn.sock.sendall(_request("POST", "/heartbeat", _beat(seq), auth))
            status, _, body = conn.answer()
            assert (status, json.loads(body)["state"]) == (200, "running"), (name, seq)
    finally:
        conn.sock.close()


def test_a_client_gone_before_its_answer_still_has_its_work_done(served, agent, installation):
    """The agent's next attempt is a retry; the first one's heartbeat is recorded all the same."""
    import time

    from invigil.sessions.models import ExamSession

    _, srv = served
    auth = f"Authorization: Bearer {agent.secret}"
    with socket.create_connection(("127.0.0.1", srv.port), timeout=20) as sock:
        sock.sendall(_request("POST", "/heartbeat", _beat(77), auth))
    deadline = time.monotonic() + 10
    while True:
        with installation.container.uow() as db:
            session = db.get(ExamSession, agent.session_id)
            assert session is not None
            if session.last_seq == 77:
                break
        assert time.monotonic() < deadline, "the heartbeat of the vanished client was not recorded"
        time.sleep(0.05)
    assert _exchange(srv.port, _request("POST", "/heartbeat", _beat(78), auth))[0][0] == 200
