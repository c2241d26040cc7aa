"""The lean hot path (hotroutes.py, ingest.py, sessions/fastactivate.py, evidence/hotpath.py,
sessions/tokencache.py): the same answers and records as FastAPI and the full service path, an
ended session refused at once although its token is cached, and a code used once however many
agents race for it. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from invigil.evidence.models import EvidenceItem
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.protocol import v1
from invigil.sessions import service, tokencache
from invigil.sessions.models import Event, ExamSession
from invigil.sessions.states import State, move
from tests.factories import make_exam
from tests.integration.agentkit import activate, activation_body, new_candidate_key, public_b64

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


# -- activation ------------------------------------------------------------------------------------

_SAME_FOR_EVERYONE = ("state", "notice_version", "agent_info", "key_generation")


def _row(installation, session_id: str) -> ExamSession:
    with installation.container.uow() as db:
        session = db.get(ExamSession, session_id)
        assert session is not None
        db.expunge(session)
        return session


def test_hot_activation_answers_and_records_as_the_full_path(http, exam, installation):
    writer = installation.container.writer
    units = writer.units
    agent = activate(http, exam.codes[0])  # over HTTP: 409 notice, then with its version
    assert writer.units == units + 2  # both attempts were group-commit units, not the full path
    hot = _row(installation, agent.session_id)

    # The second candidate through service.activate, the full path, with the same request.
    body = activation_body(exam.codes[1], "f" * 43, new_candidate_key())
    req = v1.ActivateRequest.model_validate({**body, "notice_version": hot.notice_version})
    with installation.container.uow() as db:
        full_answer = service.activate(db, req, utcnow(), service.Limits(10, 8 * 2**20, 30))
    full = _row(installation, full_answer.session_id)

    assert [getattr(hot, k) for k in _SAME_FOR_EVERYONE] == [getattr(full, k) for k in _SAME_FOR_EVERYONE]
    assert hot.state == "activated"
    assert hot.code_used_at == hot.activated_at == hot.notice_accepted_at == hot.key_generation_at
    assert hot.token_hash == tokens.token_hash(agent.secret)
    assert hot.candidate_public_key == public_b64(agent.candidate)
    assert hot.candidate_kid == service.candidate_kid(public_b64(agent.candidate))
    assert set(agent.act) == set(full_answer.model_dump())
    assert agent.act["keys"] == full_answer.keys.model_dump()
    assert agent.act["policy"] == full_answer.policy
    assert agent.act["exam"]["title"] == full_answer.exam.title

    # The first heartbeat takes the hot path too and starts the session.
    assert agent.heartbeat(1).json()["state"] == "running"
    assert _row(installation, agent.session_id).last_seq == 1


def test_hot_activation_refuses_as_the_full_path(http, installation):
    running = make_exam(installation, n=3)
    # An ended exam's unused codes race the sweeper (it abandons them), so set the states directly.
    with installation.container.uow() as db:
        db.execute(
            update(ExamSession)
            .where(ExamSession.id == running.session_ids[0])
            .values(code_expires_at=utcnow() - timedelta(minutes=1))
        )
        abandoned = running.session_ids[1]
        db.execute(update(ExamSession).where(ExamSession.id == abandoned).values(state="abandoned"))

    def attempt(real_code: str, **changes: str) -> httpx.Response:
        return http.post(f"{v1.PREFIX}/activate", json={**activation_body(real_code, "s" * 40), **changes})

    r = attempt(running.codes[0])
    assert (r.status_code, r.json()["error"]) == (410, "gone")
    assert "expired" in r.json()["message"]
    r = attempt(running.codes[1])
    assert (r.status_code, r.json()["message"]) == (410, "This activation code can no longer be used.")
    later = make_exam(installation, n=1, start_offset=24 * 60, minutes=60)
    assert attempt(later.codes[0]).status_code == 403
    r = attempt(later.codes[0], code="x")
    assert (r.status_code, r.json()["error"]) == (401, "invalid_code")
    r = attempt(running.codes[2], candidate_public_key="!" * 44)
    assert r.status_code == 422
    assert "candidate_public_key" in r.json()["message"]
    assert _row(installation, running.session_ids[2]).state == "issued"  # nothing used up


def _race(http, code: str, secrets_: list[str], version: str) -> list[httpx.Response]:
    def one(secret: str) -> httpx.Response:
        body = {**activation_body(code, secret, new_candidate_key()), "notice_version": version}
        return http.post(f"{v1.PREFIX}/activate", json=body)

    with ThreadPoolExecutor(len(secrets_)) as pool:
        return list(pool.map(one, secrets_))


def test_one_code_raced_by_many_agents_activates_once(http, exam, installation):
    probe = http.post(f"{v1.PREFIX}/activate", json=activation_body(exam.codes[0], "p" * 40))
    version = probe.json()["notice_version"]
    answers = _race(http, exam.codes[0], [f"{n:02d}" * 20 for n in range(8)], version)
    assert sorted(r.status_code for r in answers) == [200] + [409] * 7
    assert all("already used" in r.json()["message"] for r in answers if r.status_code == 409)
    winner = next(r for r in answers if r.status_code == 200)
    assert _row(installation, winner.json()["session_id"]).state == "activated"

    # One agent retrying a lost answer many times at once: the same session every time.
    answers = _race(http, exam.codes[1], ["s" * 40] * 6, version)
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["session_id"] for r in answers}) == 1
