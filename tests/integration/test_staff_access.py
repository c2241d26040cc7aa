"""Who may see what: every role against every staff endpoint, and the access log."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, text

from invigil.audit.models import AccessLogEntry
from tests.factories import PASSWORD, login, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def world(http, installation):
    """Exam A (assigned to the invigilator and reviewer) with evidence, and exam B (nobody assigned)."""
    a = make_exam(installation, n=2)
    b = make_exam(installation, n=1, assign=False)
    agent = activate(http, a.codes[0])
    item = agent.upload("screenshot", b"\x89PNG secret pixels")
    with installation.container.uow() as db:
        from invigil.evidence.models import EvidenceItem

        row = db.scalar(select(EvidenceItem.id).where(EvidenceItem.client_id == item))
    return {"a": a, "b": b, "item": row, "session": agent.session_id}


# role -> (board of A, evidence list of A, evidence read of A, board of B)
MATRIX = {
    "admin": (200, 403, 403, 200),
    "coordinator": (200, 403, 403, 200),
    "invigilator": (200, 200, 200, 403),
    "reviewer": (200, 200, 200, 403),
    "examiner": (403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_access_matrix(http, server, world, role):
    h = login(server.url, role)
    got = (
        http.get(f"/api/v1/staff/exams/{world['a'].exam_id}/sessions", headers=h).status_code,
        http.get(f"/api/v1/staff/sessions/{world['session']}/evidence", headers=h).status_code,
        http.get(f"/api/v1/staff/evidence/{world['item']}", headers=h).status_code,
        http.get(f"/api/v1/staff/exams/{world['b'].exam_id}/sessions", headers=h).status_code,
    )
    assert got == MATRIX[role]


def test_anonymous_and_bad_tokens(http, world):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Token x"}):
        r = http.get(f"/api/v1/staff/evidence/{world['item']}", headers=headers)
        assert r.status_code == 401
    r = http.post(
        "/api/v1/staff/login",
        json={"institution": "uni", "email": "reviewer@uni.example", "password": "wrong!"},
    )
    assert r.status_code == 401
    assert r.json()["message"] == "Wrong email or password."
    r = http.post(
        "/api/v1/staff/login",
        json={"institution": "nope", "email": "x@y.z", "password": PASSWORD, "totp": "1"},
    )
    assert r.status_code == 401


def test_logout_kills_the_token(http, server, world):
    h = login(server.url, "reviewer")
    assert http.get("/api/v1/staff/me", headers=h).status_code == 200
    assert http.post("/api/v1/staff/logout", headers=h).status_code == 200
    assert http.get("/api/v1/staff/me", headers=h).status_code == 401


def test_evidence_is_served_sealed_and_every_read_is_logged(http, server, installation, world):
    h = login(server.url, "reviewer")
    r = http.get(f"/api/v1/staff/evidence/{world['item']}", headers=h)
    assert r.content.startswith(b"INVGENV1")
    assert b"secret pixels" not in r.content
    assert r.headers["cache-control"] == "no-store"
    http.get(f"/api/v1/staff/sessions/{world['session']}/evidence", headers=h)
    http.get(f"/api/v1/staff/exams/{world['a'].exam_id}/sessions", headers=h)
    with installation.container.uow() as db:
        actions = [
            (e.action, e.actor_id) for e in db.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id))
        ]
    reviewer = installation.staff["reviewer"]
    assert ("evidence.read", reviewer) in actions
    assert ("evidence.list", reviewer) in actions
    assert ("sessions.list", reviewer) in actions
    # Refused reads do not produce data, and nobody can see an item of an unknown id.
    assert http.get("/api/v1/staff/evidence/does-not-exist", headers=h).status_code == 403
    # An unknown session answers as another exam's does: 403, so session ids cannot be probed.
    for path in ("evidence", "flags", "timeline", "decisions"):
        r = http.get(f"/api/v1/staff/sessions/does-not-exist/{path}", headers=h)
        assert r.status_code == 403, path
        assert r.json()["message"] == "You do not have access to this exam's data."


def test_access_log_is_append_only(installation, world):
    engine = installation.container.engine
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO access_log (at, actor_kind, actor_id, action, detail) "
                "VALUES (CURRENT_TIMESTAMP, 'staff', 'x', 'evidence.read', '{}')"
            )
        )
    for statement in ("UPDATE access_log SET actor_id = 'someone else'", "DELETE FROM access_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))


def test_invigilator_only_during_the_exam_window(http, server, installation):
    past = make_exam(installation, n=1, start_offset=-600, minutes=60)
    h = login(server.url, "invigilator")
    assert http.get(f"/api/v1/staff/exams/{past.exam_id}/sessions", headers=h).status_code == 403
    h = login(server.url, "reviewer")
    assert http.get(f"/api/v1/staff/exams/{past.exam_id}/sessions", headers=h).status_code == 200


def test_exam_administration_via_api(http, server, installation):
    h = login(server.url, "coordinator")
    body = {
        "title": "Statistics",
        "starts_at": "2030-01-10T09:00:00+01:00",
        "ends_at": "2030-01-10T13:00:00+01:00",
        "timezone": "Europe/Berlin",
        "policy": {"screenshots": {"enabled": True}},
    }
    r = http.post("/api/v1/staff/exams", json=body, headers=h)
    assert r.status_code == 201, r.text
    exam_id = r.json()["id"]
    bad = {**body, "policy": {"face_verification": {"enabled": True}}}
    r = http.post("/api/v1/staff/exams", json=bad, headers=h)
    assert r.status_code == 422
    assert "need the webcam" in r.json()["message"]
    r = http.post("/api/v1/staff/exams", json={**body, "timezone": "Mars/Olympus"}, headers=h)
    assert r.status_code == 422
    assert "time zone" in r.json()["message"]
    r = http.post("/api/v1/staff/exams", json={**body, "ends_at": body["starts_at"]}, headers=h)
    assert r.status_code == 422
    r = http.post(
        f"/api/v1/staff/exams/{exam_id}/candidates",
        json={"candidates": [{"full_name": "Ada L"}] * 3},
        headers=h,
    )
    assert r.status_code == 201
    assert len({c["code"] for c in r.json()["candidates"]}) == 3
    assert "Ada" not in r.text  # names never come back with pseudonyms and codes
    r = http.post(
        f"/api/v1/staff/exams/{exam_id}/assignments",
        json={"staff_email": "reviewer@uni.example", "role": "reviewer"},
        headers=h,
    )
    assert r.status_code == 201
    r = http.post(
        f"/api/v1/staff/exams/{exam_id}/assignments",
        json={"staff_email": "examiner@uni.example", "role": "reviewer"},
        headers=h,
    )
    assert r.status_code == 422
    for role in ("invigilator", "reviewer", "examiner"):
        assert http.post("/api/v1/staff/exams", json=body, headers=login(server.url, role)).status_code == 403
        r = http.post(
            f"/api/v1/staff/exams/{exam_id}/candidates",
            json={"candidates": [{}]},
            headers=login(server.url, role),
        )
        assert r.status_code == 403
