"""Detections → flags: the worker pass on sealed evidence, the agent pass as events, idempotence,
rules, and near-duplicate hand-ins. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from invigil.analysis.base import Detection
from invigil.audit.models import AccessLogEntry
from invigil.exams import repository as exams_repo
from invigil.flags import service, tasks
from invigil.flags.models import DetectionRecord, Flag
from invigil.flags.opener import EvidenceOpener
from invigil.kit.clock import iso, utcnow
from tests.factories import login, make_exam
from tests.integration.agentkit import activate
from tests.integration.flagkit import (
    ESSAY,
    FORBIDDEN_POLICY,
    analysis_account,
    assign_worker,
    behaviours,
    processes,
)


@pytest.fixture
def settings(settings):
    # Jobs are run by hand here, so that every step is deterministic.
    return settings.model_copy(update={"analysis_queue": "off"})


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def world(installation, tmp_path):
    account = analysis_account(installation, tmp_path)
    exam = make_exam(installation, n=3, policy=FORBIDDEN_POLICY)
    assign_worker(installation.container, exam.exam_id, account.staff_id)
    opener = EvidenceOpener(account.staff_id, account.key, installation.container.store)
    return exam, opener


def count(c, model, **where) -> int:
    with c.uow() as db:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return int(db.scalar(q) or 0)


def test_worker_opens_sealed_snapshot_flags_forbidden_program_once(http, server, installation, world):
    exam, opener = world
    c = installation.container
    agent = activate(http, exam.codes[0])
    item = agent.upload("process_snapshot", processes("Discord.exe", "anydesk"))
    clean = activate(http, exam.codes[1])
    clean.upload("process_snapshot", processes())

    ref = f"{agent.session_id}/{item}"
    assert tasks.analyse_item(c, ref, opener) == 2  # forbidden program + remote desktop
    assert tasks.analyse_item(c, ref, opener) == 0  # the same evidence again: nothing new
    assert tasks.analyse_item(c, f"{clean.session_id}/{clean_item(c, clean.session_id)}", opener) == 0

    h = login(server.url, "reviewer")
    r = http.get(f"/api/v1/staff/sessions/{agent.session_id}/flags", headers=h)
    assert r.status_code == 200
    body = r.json()
    flags = {f["behaviour"]: f for f in body["flags"]}
    assert set(flags) == {"process.forbidden", "environment.remote_desktop"}
    f = flags["process.forbidden"]
    assert (f["source"], f["authoritative"], f["severity"]) == ("worker", True, "red")
    assert f["evidence"] == [item]
    assert f["data"]["matches"] == [{"pattern": "discord", "on": "name"}]
    assert body["counts"] == {"green": 0, "yellow": 0, "red": 2}
    assert count(c, Flag, session_id=agent.session_id) == 2
    assert behaviours(http, h, clean.session_id) == set()
    # The worker's opening is in the access log, as the analysis account.
    with c.uow() as db:
        actors = db.scalars(
            select(AccessLogEntry.actor_kind).where(AccessLogEntry.action == "evidence.analyse")
        )
        assert set(actors) == {"worker"}


def clean_item(c, session_id: str) -> str:
    from invigil.evidence.models import EvidenceItem

    with c.uow() as db:
        return str(db.scalar(select(EvidenceItem.client_id).where(EvidenceItem.session_id == session_id)))


def test_without_an_analysis_key_items_are_skipped_not_failed(http, installation, world):
    exam, _ = world
    agent = activate(http, exam.codes[0])
    item = agent.upload("process_snapshot", processes("discord"))
    assert tasks.analyse_item(installation.container, f"{agent.session_id}/{item}", None) == 0
    assert tasks.analyse_handins(installation.container, exam.exam_id, None) == 0


def test_event_detectors_and_agent_detections_both_shown_worker_authoritative(
    http, server, installation, world
):
    exam, _ = world
    c = installation.container
    agent = activate(http, exam.codes[0])
    start = utcnow() - timedelta(minutes=5)
    batch = {
        "events": [
            {"id": "focus-lost-0001", "type": "focus.lost", "at": iso(start)},
            {"id": "focus-back-0001", "type": "focus.regained", "at": iso(start + timedelta(seconds=40))},
            {"id": "usb-in-00000001", "type": "storage.inserted", "at": iso(start), "data": {"bus": "usb"}},
            {"id": "usb-out-0000001", "type": "storage.removed", "at": iso(start + timedelta(seconds=9))},
            {"id": "screens-0000001", "type": "display.changed", "at": iso(start), "data": {"monitors": 2}},
            {
                "id": "agent-det-00001",
                "type": "detection.focus.left",
                "at": iso(start + timedelta(seconds=1)),
                "score": 1.0,
                "data": {"end": iso(start + timedelta(seconds=39))},
            },
            {
                "id": "agent-det-00002",
                "type": "detection.not.a_behaviour",
                "at": iso(start),
                "score": 1.0,
            },
        ]
    }
    r = http.post("/api/v1/agent/events", json=batch, headers=agent.auth())
    assert r.status_code == 200, r.text
    tasks.analyse_session(c, agent.session_id)
    tasks.analyse_session(c, agent.session_id)  # idempotent: spans are replaced, not added
    assert count(c, DetectionRecord, session_id=agent.session_id, source="agent") == 1
    h = login(server.url, "reviewer")
    flags = http.get(f"/api/v1/staff/sessions/{agent.session_id}/flags", headers=h).json()["flags"]
    got = sorted((f["behaviour"], f["source"]) for f in flags)
    assert got == [
        ("display.extra_monitor", "worker"),
        ("focus.left", "agent"),
        ("focus.left", "worker"),
        ("storage.removable", "worker"),
    ]
    agent_flag = next(f for f in flags if f["source"] == "agent")
    assert (agent_flag["authoritative"], agent_flag["confirmed_by_worker"]) == (False, True)
    worker_focus = next(f for f in flags if f["source"] == "worker" and f["behaviour"] == "focus.left")
    assert worker_focus["start"] == iso(start)
    # Counted once per behaviour: the worker's flag stands for both.
    counts = http.get(f"/api/v1/staff/sessions/{agent.session_id}/flags", headers=h).json()["counts"]
    assert counts == {"green": 1, "yellow": 2, "red": 0}


def test_rules_change_colours_and_hide_flags_and_are_validated(http, server, installation, world):
    exam, _ = world
    c = installation.container
    sid = exam.session_ids[0]
    now = utcnow()
    with c.uow() as db:
        e = exams_repo.get(db, exam.exam_id)
        assert e is not None
        short = Detection("focus.left", 1.0, now, now + timedelta(seconds=4))
        long = Detection("focus.left", 1.0, now + timedelta(minutes=5), now + timedelta(minutes=6))
        service.record(db, e.id, sid, "worker", [short, long])
        service.rebuild(db, e, sid)
    coord, rev = login(server.url, "coordinator"), login(server.url, "reviewer")
    before = http.get(f"/api/v1/staff/sessions/{sid}/flags", headers=rev).json()["flags"]
    assert [(f["severity"], f["end"]) for f in before] == [
        ("green", iso(long.end))
    ]  # the 4 s one is too short

    r = http.put(
        f"/api/v1/staff/exams/{exam.exam_id}/flag-rules",
        json={"rules": {"focus.left": {"severity": "red", "min_duration_seconds": 0}}},
        headers=coord,
    )
    assert r.status_code == 200, r.text
    after = http.get(f"/api/v1/staff/sessions/{sid}/flags", headers=rev).json()["flags"]
    assert [f["severity"] for f in after] == ["red", "red"]

    r = http.put(
        f"/api/v1/staff/exams/{exam.exam_id}/flag-rules",
        json={"rules": {"focus.left": {"severity": "purple", "threshold": 2}}},
        headers=coord,
    )
    assert r.status_code == 422
    msg = r.json()["message"]
    assert "focus.left → severity: must be green, yellow or red" in msg
    assert "focus.left → threshold" in msg
    r = http.put(
        f"/api/v1/staff/exams/{exam.exam_id}/flag-rules",
        json={"rules": {"focus.left": {"enabled": False}}},
        headers=coord,
    )
    assert r.status_code == 200
    assert http.get(f"/api/v1/staff/sessions/{sid}/flags", headers=rev).json()["flags"] == []
    got = http.get(f"/api/v1/staff/exams/{exam.exam_id}/flag-rules", headers=coord).json()
    assert got["rules"]["focus.left"]["enabled"] is False
    assert got["rules"]["focus.left"]["severity"] == "green"  # a PUT replaces the exam's earlier changes

    # Institution defaults (admins): an exam without changes follows them.
    admin = login(server.url, "admin")
    r = http.put(
        "/api/v1/staff/flag-rules", json={"rules": {"voice.speech": {"severity": "red"}}}, headers=admin
    )
    assert r.status_code == 200
    got = http.get(f"/api/v1/staff/exams/{exam.exam_id}/flag-rules", headers=coord).json()["rules"]
    assert got["voice.speech"]["severity"] == "red"
    assert http.put("/api/v1/staff/flag-rules", json={"rules": {}}, headers=coord).status_code == 403


def test_near_duplicate_handins_across_candidates(http, server, installation, world):
    exam, opener = world
    c = installation.container
    agents = [activate(http, code) for code in exam.codes]
    texts = [ESSAY, ESSAY.replace("logarithmic", "log"), "An entirely different answer. " * 3 + "x " * 200]
    for agent, text in zip(agents, texts, strict=True):
        item = agent.upload("handin_file", text.encode())
        assert agent.handin([item]).status_code == 200
    assert tasks.analyse_handins(c, exam.exam_id, opener) == 1
    assert tasks.analyse_handins(c, exam.exam_id, opener) == 1  # again: the same single pair
    h = login(server.url, "reviewer")
    a, b, other = (agent.session_id for agent in agents)
    fa = http.get(f"/api/v1/staff/sessions/{a}/flags", headers=h).json()["flags"]
    fb = http.get(f"/api/v1/staff/sessions/{b}/flags", headers=h).json()["flags"]
    assert [f["behaviour"] for f in fa] == ["handin.near_duplicate"] == [f["behaviour"] for f in fb]
    assert fa[0]["data"]["other_session"] == b
    assert fb[0]["data"]["other_session"] == a
    assert 0.8 <= fa[0]["data"]["similarity"] < 1.0
    assert behaviours(http, h, other) == set()
    assert count(c, DetectionRecord, behaviour="handin.near_duplicate") == 2

    cohort = http.get(f"/api/v1/staff/exams/{exam.exam_id}/cohort", headers=h).json()
    assert cohort["distribution"]["flags"]["n"] == 3
    rows = {r["session_id"]: r for r in cohort["candidates"]}
    assert rows[a]["flags"]["value"] == 1.0
    assert rows[other]["flags"]["value"] == 0.0
    assert rows[a]["flags"]["percentile"] > rows[other]["flags"]["percentile"]
    assert any(t["what"] == "handed in" for t in rows[a]["timeline"])


def test_two_workers_recording_the_same_detection_at_once_store_it_once(installation, monkeypatch):
    """Two worker processes analysing the same evidence race past each other's fingerprint check:
    the database's unique key decides, and neither job fails."""
    exam = make_exam(installation, n=1)
    d = Detection("process.forbidden", 0.9, utcnow(), utcnow(), ("item-1",), {})
    c = installation.container
    monkeypatch.setattr(service.repository, "fingerprints", lambda db, session_id, source: set())
    with c.uow() as db:
        assert service.record(db, exam.exam_id, exam.session_ids[0], "worker", [d]) == 1
    with c.uow() as db:  # the other worker did not see the first row when it checked
        assert service.record(db, exam.exam_id, exam.session_ids[0], "worker", [d]) == 0
    assert count(c, DetectionRecord, session_id=exam.session_ids[0]) == 1
