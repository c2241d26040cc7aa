"""The agent's live pass: the same analysers on plaintext before sealing, reported as
``detection.*`` events, stored by the server as agent-source detections next to the worker's."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from invigil.agent.live import LivePass
from invigil.agent.runtime import AgentRuntime, policy_sources
from invigil.agent.sources.sample import SampleProcesses
from invigil.flags import tasks
from invigil.flags.models import Flag
from invigil.kit.clock import utcnow
from invigil.protocol.policy import parse_policy
from invigil.sessions.models import Event
from invigil.sim.classroom import reads_and_accepts
from tests.factories import make_exam
from tests.integration.flagkit import FORBIDDEN_POLICY, processes


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off"})  # jobs run by hand below


def test_live_pass_turns_detections_into_severity_free_events():
    live = LivePass(parse_policy(FORBIDDEN_POLICY))
    out = live.events("process_snapshot", processes("discord"), "item-0001", utcnow())
    assert len(out) == 1
    event = out[0]
    assert event["type"] == "detection.process.forbidden"
    assert event["score"] == 1.0
    assert "severity" not in event  # the exam's rules decide, on the server
    assert event["data"]["evidence"] == ["item-0001"]
    assert len(json.dumps(event["data"])) < 4096  # fits the protocol's event limit
    assert live.events("process_snapshot", processes(), "item-0002", utcnow()) == []
    assert live.events("screenshot", b"\x89PNG", "item-0003", utcnow()) == []  # no analyser: skipped


def test_agent_runtime_reports_live_detections_and_server_stores_them(server, installation, tmp_path):
    policy = {**FORBIDDEN_POLICY, "tail_period_seconds": 1}
    exam = make_exam(installation, n=1, policy=policy)

    def sources(p):  # type: ignore[no-untyped-def]
        return policy_sources(p, {"process_snapshot": lambda: SampleProcesses(extra=["discord"], seed="x")})

    runtime = AgentRuntime(
        server.url,
        tmp_path / "spool",
        exam.codes[0],
        sources,
        lambda: [b"answers"],
        handin_after=8,
        read_notice=reads_and_accepts,
    )
    status = asyncio.run(runtime.run())
    assert status.phase == "closed", status.error
    c = installation.container
    with c.uow() as db:
        types = list(db.scalars(select(Event.type).where(Event.session_id == exam.session_ids[0])))
    assert "detection.process.forbidden" in types
    tasks.analyse_session(c, exam.session_ids[0])
    with c.uow() as db:
        flags = db.scalars(select(Flag).where(Flag.session_id == exam.session_ids[0])).all()
    assert [(f.behaviour, f.source, f.severity) for f in flags] == [("process.forbidden", "agent", "red")]
    assert flags[0].detections >= 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the agent's tasks
def test_cancelling_a_running_agent_stops_all_of_it(server, installation, tmp_path):
    """Whoever runs the agent (the program's window, a test's class) can stop it by cancelling its
    task: the whole session flow stops at once, not when the exam would have ended."""
    exam = make_exam(installation, n=1, minutes=60)

    def sources(p):  # type: ignore[no-untyped-def]
        return policy_sources(p, {"process_snapshot": lambda: SampleProcesses(seed="x")})

    runtime = AgentRuntime(
        server.url,
        tmp_path / "spool",
        exam.codes[0],
        sources,
        lambda: [b"answers"],
        read_notice=reads_and_accepts,
    )

    async def scenario() -> set[asyncio.Task]:
        task = asyncio.create_task(runtime.run())
        await asyncio.wait_for(runtime.running.wait(), 20)
        task.cancel()
        await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 10)  # not after 60 minutes
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(scenario()) == set()  # nothing of the agent is left running
