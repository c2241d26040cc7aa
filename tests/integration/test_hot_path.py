"""The lean hot path (hotroutes.py, ingest.py, evidence/hotpath.py, sessions/tokencache.py): the same
answers as FastAPI, and an ended session refused at once although its token is cached.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update

from invigil.evidence.models import EvidenceItem
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.protocol import v1
from invigil.sessions import tokencache
from invigil.sessions.models import Event, ExamSession
from invigil.sessions.states import State, move
from tests.factories import make_exam
from tests.integration.agentkit import activate

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 200


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def exam(installation):
    return make_exam(installation, n=2)


def _stored(installation) -> int:
    with installation.container.uow() as db:
        return db.scalar(select(func.count()).select_from(EvidenceItem)) or 0


def _blobs(installation) -> list[str]:
    return list(installation.container.store.keys("evidence/"))


def _events(prefix: str) -> dict[str, object]:
    return {"events": [{"id": f"{prefix}-000001", "type": "capture.screenshot", "at": utcnow().isoformat()}]}


def test_an_upload_caches_its_token_and_a_retry_is_counted_once(http, exam, installation):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", PNG)
    assert agent.put(item_id, "screenshot", sealed).status_code == 201
    assert tokencache.get(tokens.token_hash(agent.secret)) is not None
    r = agent.put(item_id, "screenshot", sealed)  # the retry writes a spare blob, finds the row, deletes it
    assert (r.status_code, r.json()["status"]) == (201, "stored")
    r = agent.put(item_id, "screenshot", agent.seal("screenshot", PNG + b"other", item_id)[1])
    assert r.status_code == 409
    with installation.container.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        assert session is not None
        assert (session.items, session.bytes) == (1, len(sealed))
    assert _stored(installation) == 1
    assert len(_blobs(installation)) == 1  # no spare copies left behind


def test_a_session_ended_here_is_refused_at_once(http, exam, installation):
    agent = activate(http, exam.codes[0])
    agent.upload("screenshot", PNG)
    with installation.container.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        assert session is not None
        move(session, State.ABANDONED)
    assert tokencache.get(tokens.token_hash(agent.secret)) is None  # forgotten on the state change
    _all_refused(http, agent, installation)


def test_a_session_ended_elsewhere_is_refused_at_once_though_still_cached(http, exam, installation):
    """Another API node (or process) ended the session: this one's cache does not know, the write does."""
    agent = activate(http, exam.codes[0])
    agent.upload("screenshot", PNG)
    with installation.container.uow() as db:
        db.execute(update(ExamSession).where(ExamSession.id == agent.session_id).values(state="closed"))
    assert tokencache.get(tokens.token_hash(agent.secret)) is not None
    _all_refused(http, agent, installation)


def _all_refused(http, agent, installation):
    before, blobs = _stored(installation), _blobs(installation)
    item_id, sealed = agent.seal("screenshot", PNG + b"late")
    r = agent.put(item_id, "screenshot", sealed)
    assert r.status_code == 401, r.text
    assert "has ended" in r.json()["message"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert (_stored(installation), _blobs(installation)) == (before, blobs)
    r = agent.put(item_id, "screenshot", sealed, headers={v1.H_SHA256: "xyz"})
    assert r.status_code == 401  # the ended session first, as the full path says, not the bad header
    r = http.post(f"{v1.PREFIX}/events", json=_events("late"), headers=agent.auth())
    assert r.status_code == 401
    assert agent.heartbeat(99).status_code == 401
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 0


def test_unmatched_requests_reach_fastapi(http, exam):
    agent = activate(http, exam.codes[0])
    # More path segments than an item id: FastAPI's 404, not an upload.
    assert agent.put("a/b", "screenshot", PNG).status_code == 404
    # Another method on a hot path: FastAPI's 405.
    assert http.get(f"{v1.PREFIX}/heartbeat", headers=agent.auth()).status_code == 405
    # A body that says it is not JSON: FastAPI decides, and refuses it.
    r = http.post(
        f"{v1.PREFIX}/heartbeat", content=b"seq=1", headers={**agent.auth(), "Content-Type": "text/plain"}
    )
    assert r.status_code == 422


def test_hot_answers_look_like_fastapis(http, exam):
    agent = activate(http, exam.codes[0])
    r = agent.heartbeat(1)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert set(r.json()) == {"state", "server_time", "key_generation"}
    r = http.post(f"{v1.PREFIX}/heartbeat", content=b"{not json", headers=agent.auth())
    assert r.status_code == 422
    assert r.json()["error"] == "invalid"
    assert r.json()["message"].startswith("The request is not valid")
    r = http.post(f"{v1.PREFIX}/heartbeat", json={"seq": 0, "sent_at": "x"}, headers=agent.auth())
    assert r.status_code == 422
    assert "seq" in r.json()["message"]
    assert "sent_at" in r.json()["message"]
