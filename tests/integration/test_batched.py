"""Heartbeats and event batches sharing statements in one group commit (sessions/batched.py): the
same answers and rows as each alone, the unusual ones still decided alone, a refused one costs the
others nothing, and on PostgreSQL a batch's heartbeats really are one statement. SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from invigil.kit import rawsql
from invigil.kit.clock import utcnow
from invigil.kit.errors import Invalid, Unauthorized
from invigil.protocol import v1
from invigil.sessions import batched
from invigil.sessions.models import Event, ExamSession
from tests.factories import make_exam
from tests.integration.agentkit import Agent, activate

POLICY = {"screenshots": {"enabled": True, "interval": {"min_seconds": 30, "max_seconds": 60}}}


@pytest.fixture
def agents(server, installation) -> list[Agent]:
    exam = make_exam(installation, n=6, policy=POLICY)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        return [activate(http, code) for code in exam.codes]


def _beat(agent: Agent, seq: int) -> batched.Heartbeat:
    return batched.Heartbeat(agent.secret, v1.Heartbeat(seq=seq, sent_at=utcnow()), utcnow())


def _batch(agent: Agent, *ids: str, data: dict[str, object] | None = None) -> batched.EventBatch:
    events = [
        v1.AgentEvent(id=f"event-{i}", type="input.idle", at=utcnow(), severity="info", data=data or {"n": 1})
        for i in ids
    ]
    return batched.EventBatch(agent.secret, v1.EventBatch(events=events), utcnow(), 500)


def _sessions(installation, agents: list[Agent]) -> dict[str, tuple[object, ...]]:
    with installation.container.uow() as db:
        rows = db.execute(
            select(ExamSession.id, ExamSession.state, ExamSession.last_seq, ExamSession.last_heartbeat_at)
        ).all()
    ids = {a.session_id for a in agents}
    return {row[0]: tuple(row[1:]) for row in rows if row[0] in ids}


def _events(installation) -> list[tuple[str, str, str, str | None, dict[str, object]]]:
    with installation.container.uow() as db:
        rows = db.execute(
            select(Event.session_id, Event.client_id, Event.type, Event.severity, Event.data)
        ).all()
    return sorted(tuple(r) for r in rows)  # type: ignore[misc]


def _count_statements(monkeypatch) -> Counter[str]:
    seen: Counter[str] = Counter()
    run = rawsql._run

    def counting(conn, compiled, params, fetch):
        seen[compiled.sql.split()[0].upper()] += 1
        return run(conn, compiled, params, fetch)

    monkeypatch.setattr(rawsql, "_run", counting)
    return seen


def test_heartbeats_together_answer_and_store_as_each_alone(agents, installation, monkeypatch):
    c = installation.container
    first = [_beat(a, 1) for a in agents]  # the first after activation: each decided alone
    with c.uow() as db:
        acks = batched.HEARTBEATS.run_many(db, first)
    assert {ack.state for ack in acks} == {"running"}

    seen = _count_statements(monkeypatch)
    # Running sessions, one of them twice (a newer seq, then an older one), all in one batch.
    items = [_beat(a, 5) for a in agents] + [_beat(agents[0], 7), _beat(agents[1], 3)]
    with c.uow() as db:
        together = batched.HEARTBEATS.run_many(db, items)
    assert [ack.state for ack in together] == ["running"] * len(items)
    assert len({ack.key_generation for ack in together}) == 1
    rows = _sessions(installation, agents)
    assert rows[agents[0].session_id][1] == 7  # the newer seq won, as in order alone
    assert rows[agents[1].session_id][1] == 5  # the older one changed nothing
    assert all(rows[a.session_id][1] == 5 for a in agents[1:])
    if c.engine.dialect.name == "postgresql":
        # One UPDATE for the six running sessions. The repeated tokens alone: the newer seq's own
        # UPDATE; the older one's two tries (running, just activated) before the full path decides.
        assert seen["UPDATE"] == 1 + 1 + 2

    # The same heartbeats one by one give the same rows (times aside) and the same answers.
    with c.uow() as db:
        alone = [batched.heartbeat_alone(db, _beat(a, 9)) for a in agents]
        together = batched.HEARTBEATS.run_many(db, [_beat(a, 11) for a in agents])
    assert [a.model_dump(exclude={"server_time"}) for a in alone] == [
        a.model_dump(exclude={"server_time"}) for a in together
    ]
    assert all(row[1] == 11 for row in _sessions(installation, agents).values())


def test_unusual_heartbeats_in_a_batch_are_decided_alone(agents, installation):
    c = installation.container
    with c.uow() as db:
        batched.HEARTBEATS.run_many(db, [_beat(a, 1) for a in agents])
        # One session went offline, one was closed by the sweeper on another node.
        db.execute(
            update(ExamSession)
            .where(ExamSession.id == agents[0].session_id)
            .values(state="offline", offline_since=utcnow() - timedelta(seconds=40))
        )
        db.execute(update(ExamSession).where(ExamSession.id == agents[1].session_id).values(state="closed"))

    async def beat_all() -> list[object]:
        items = [_beat(a, 2) for a in agents] + [batched.Heartbeat("no-such-token", _beats_body(), utcnow())]
        return await asyncio.gather(
            *(c.writer.run_batched(batched.HEARTBEATS, item) for item in items), return_exceptions=True
        )

    answers = asyncio.run(beat_all())
    assert answers[0].state == "running"  # back from offline, as the full path does it
    assert isinstance(answers[1], Unauthorized)
    assert "has ended" in answers[1].message
    assert [a.state for a in answers[2:6]] == ["running"] * 4
    assert isinstance(answers[6], Unauthorized)
    rows = _sessions(installation, agents)
    assert rows[agents[0].session_id][:2] == ("running", 2)
    assert rows[agents[1].session_id][:2] == ("closed", 1)  # nothing changed for the ended one
    assert all(rows[a.session_id][1] == 2 for a in agents[2:])


def _beats_body() -> v1.Heartbeat:
    return v1.Heartbeat(seq=1, sent_at=utcnow())


def test_event_batches_together_store_and_count_as_each_alone(agents, installation, server, monkeypatch):
    c = installation.container
    with c.uow() as db:
        batched.EVENT_BATCHES.run_many(db, [_batch(agents[0], "ev-old-1")])  # stored before
    seen = _count_statements(monkeypatch)
    items = [
        _batch(agents[0], "ev-old-1", "ev-a-1", "ev-a-2"),  # one duplicate of a stored event
        _batch(agents[1], "ev-b-1", data={"nested": {"k": [1, 2.5, None, "x"]}, "ø": "ü"}),
        _batch(agents[2], "ev-c-1", "ev-c-2", "ev-c-3"),
        _batch(agents[0], "ev-a-2", "ev-a-3"),  # the same session twice in one batch: alone
    ]
    with c.uow() as db:
        answers = batched.EVENT_BATCHES.run_many(db, items)
    counts = [(ack.accepted, ack.duplicates) for ack, _ in answers]
    assert counts == [(2, 1), (1, 0), (3, 0), (1, 1)]
    assert [session_id for _, session_id in answers] == [
        agents[0].session_id,
        agents[1].session_id,
        agents[2].session_id,
        agents[0].session_id,
    ]
    if c.engine.dialect.name == "postgresql":
        assert (seen["SELECT"], seen["INSERT"]) == (1 + 1, 1 + 1)  # shared, then the repeated session
    together = _events(installation)

    # The same batches one by one, in a fresh exam, store the same rows.
    others = make_exam(installation, n=3, policy=POLICY)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        fresh = [activate(http, code) for code in others.codes]
    rename = {a.session_id: f.session_id for a, f in zip(agents[:3], fresh, strict=True)}
    with c.uow() as db:
        batched.events_alone(db, _batch(fresh[0], "ev-old-1"))
        for item, who in zip(items, [0, 1, 2, 0], strict=True):
            batched.events_alone(db, batched.EventBatch(fresh[who].secret, item.body, item.now, 500))
    alone = [row for row in _events(installation) if row[0] in rename.values()]
    assert sorted((rename[row[0]], *row[1:]) for row in together) == alone


def test_a_refused_event_batch_costs_the_others_nothing(agents, installation):
    c = installation.container
    with c.uow() as db:
        db.execute(update(ExamSession).where(ExamSession.id == agents[3].session_id).values(state="closed"))

    async def send() -> list[object]:
        items = [
            _batch(agents[0], "ok-1"),
            _batch(agents[1], "dup", "dup"),  # refused: ids repeat within the batch
            _batch(agents[2], "big", data={"x": "y" * 5000}),  # refused: too much data
            _batch(agents[3], "late"),  # refused: the session has ended
            _batch(agents[4], "ok-2", "ok-3"),
        ]
        return await asyncio.gather(
            *(c.writer.run_batched(batched.EVENT_BATCHES, item) for item in items), return_exceptions=True
        )

    answers = asyncio.run(send())
    assert answers[0][0].accepted == 1
    assert isinstance(answers[1], Invalid)
    assert "unique" in answers[1].message
    assert isinstance(answers[2], Invalid)
    assert "seal it as evidence" in answers[2].message
    assert isinstance(answers[3], Unauthorized)
    assert answers[4][0].accepted == 2
    stored = {row[1] for row in _events(installation)}
    assert stored == {"event-ok-1", "event-ok-2", "event-ok-3"}
