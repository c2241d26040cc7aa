"""Erasure and restriction requests (GDPR Art. 17, 18) handled by staff: registered, carried out or
refused with reasons, enforced (a restricted session is neither read nor analysed), logged.
SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import CandidateIdentity
from invigil.flags import tasks
from invigil.review import service as review
from invigil.sessions.models import ExamSession
from tests.factories import login, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off"})


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def world(http, installation):
    exam = make_exam(installation, n=2)
    agent = activate(http, exam.codes[0])
    item = agent.upload("process_snapshot", b'{"processes": [{"name": "discord"}]}')
    with installation.container.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        review.decide(
            db,
            session,
            installation.staff["reviewer"],
            "follow_up",
            "Ask about the chat program.",
            session.activated_at,
        )
    return {"exam": exam, "agent": agent, "item": item, "session": agent.session_id}


def request(http, h, session: str, kind: str) -> dict:
    r = http.post(
        f"/api/v1/staff/sessions/{session}/requests",
        headers=h,
        json={"kind": kind, "note": "E-mail of 22 Nov"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_restriction_stops_reading_and_analysis_until_lifted(http, server, installation, world):
    c, s = installation.container, world["session"]
    coordinator, reviewer = login(server.url, "coordinator"), login(server.url, "reviewer")
    reads = (
        f"/api/v1/staff/sessions/{s}/evidence",
        f"/api/v1/staff/sessions/{s}/timeline",
        f"/api/v1/staff/sessions/{s}/flags",
    )
    assert all(http.get(u, headers=reviewer).status_code == 200 for u in reads)
    r = request(http, coordinator, s, "restriction")
    assert (
        http.post(
            f"/api/v1/staff/requests/{r['id']}/carry-out",
            headers=coordinator,
            json={"reason": "Accuracy contested by the student."},
        ).json()["status"]
        == "in_force"
    )
    for u in reads:
        refused = http.get(u, headers=reviewer)
        assert refused.status_code == 403
        assert "restricted at their request (GDPR Art. 18)" in refused.json()["message"]
    assert tasks.analyse_item(c, f"{s}/{world['item']}", None) == 0
    assert tasks.analyse_session(c, s) == 0
    bad = http.post(f"/api/v1/staff/requests/{r['id']}/lift", headers=coordinator, json={"reason": "ok"})
    assert bad.status_code == 422
    lifted = http.post(
        f"/api/v1/staff/requests/{r['id']}/lift",
        headers=coordinator,
        json={"reason": "The student's correction is recorded."},
    )
    assert lifted.json()["status"] == "lifted"
    assert all(http.get(u, headers=reviewer).status_code == 200 for u in reads)


def test_erasure_removes_evidence_records_and_name_but_keeps_the_proof(http, server, installation, world):
    c, s = installation.container, world["session"]
    h = login(server.url, "reviewer")
    r = request(http, h, s, "erasure")
    done = http.post(
        f"/api/v1/staff/requests/{r['id']}/carry-out",
        headers=h,
        json={"reason": "No case is open; the period for complaints has passed."},
    )
    assert done.status_code == 200, done.text
    assert done.json()["erased"] == {"evidence_items": 1, "decisions": 1, "candidate_identities": 1}
    with c.uow() as db:
        item = db.scalar(select(EvidenceItem).where(EvidenceItem.session_id == s))
        session = db.get(ExamSession, s)
        assert item.status == "erased"
        assert db.get(CandidateIdentity, session.candidate_id) is None
        actions = set(db.scalars(select(AccessLogEntry.action).where(AccessLogEntry.session_id == s)))
    assert c.store.size(item.blob_key) is None
    assert {"request.register", "request.erasure"} <= actions
    again = http.post(
        f"/api/v1/staff/requests/{r['id']}/carry-out", headers=h, json={"reason": "once more, please"}
    )
    assert again.status_code == 409
    listed = http.get(f"/api/v1/staff/exams/{world['exam'].exam_id}/requests", headers=h).json()["requests"]
    assert [(x["kind"], x["status"]) for x in listed] == [("erasure", "done")]


def test_a_legal_hold_blocks_erasure_which_is_then_refused_with_a_reason(http, server, world):
    h = login(server.url, "reviewer")
    hold = http.post(
        f"/api/v1/staff/exams/{world['exam'].exam_id}/holds",
        headers=h,
        json={"session_id": world["session"], "reason": "Misconduct case 2026-31 is open."},
    )
    assert hold.status_code == 201
    r = request(http, h, world["session"], "erasure")
    blocked = http.post(
        f"/api/v1/staff/requests/{r['id']}/carry-out", headers=h, json={"reason": "The student asked us to."}
    )
    assert blocked.status_code == 409
    assert "legal hold" in blocked.json()["message"]
    refused = http.post(
        f"/api/v1/staff/requests/{r['id']}/refuse",
        headers=h,
        json={"reason": "Needed for case 2026-31 (Art. 17(3)(e))."},
    )
    assert refused.json()["status"] == "refused"


def test_who_may_handle_requests_and_what_is_refused(http, server, installation, world):
    s = world["session"]
    for role in ("invigilator", "examiner"):
        r = http.post(
            f"/api/v1/staff/sessions/{s}/requests", headers=login(server.url, role), json={"kind": "erasure"}
        )
        assert r.status_code == 403, role
    h = login(server.url, "admin")
    access = http.post(f"/api/v1/staff/sessions/{s}/requests", headers=h, json={"kind": "access"})
    assert access.status_code == 422
    assert "self-service" in access.json()["message"]
    other = make_exam(installation, n=1, assign=False)
    theirs = activate(http, other.codes[0])
    reviewer = login(server.url, "reviewer")  # not assigned to the other exam
    assert (
        http.post(
            f"/api/v1/staff/sessions/{theirs.session_id}/requests", headers=reviewer, json={"kind": "erasure"}
        ).status_code
        == 403
    )
    erasure = request(http, h, s, "erasure")
    assert (
        http.post(
            f"/api/v1/staff/requests/{erasure['id']}/lift", headers=h, json={"reason": "x" * 20}
        ).status_code
        == 409
    )
    assert (
        http.post("/api/v1/staff/requests/nope/refuse", headers=h, json={"reason": "x" * 20}).status_code
        == 403
    )
