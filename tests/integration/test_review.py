"""The review: timeline, incident notes, decisions and erasure — every role against every action,
another exam's data, bad input, what erasure leaves behind, and the live board as server-sent
events. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from invigil.evidence.models import EvidenceItem
from tests.factories import login, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def world(http, installation):
    a = make_exam(installation, n=2)
    b = make_exam(installation, n=1, assign=False)
    agent = activate(http, a.codes[0])
    client_id, sealed = agent.seal("screenshot", b"\x89PNG a letter from the doctor")
    assert agent.put(client_id, "screenshot", sealed).status_code == 201
    other = activate(http, b.codes[0])
    with installation.container.uow() as db:
        item = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == client_id))
        db.expunge(item)
    return {
        "a": a,
        "b": b,
        "agent": agent,
        "item": item,
        "sealed": sealed,
        "session": agent.session_id,
        "other": other.session_id,
    }


def actions(http, h, w) -> tuple[int, ...]:
    s, a = w["session"], w["a"].exam_id
    return (
        http.get(f"/api/v1/staff/sessions/{s}/timeline", headers=h).status_code,
        http.post(
            f"/api/v1/staff/exams/{a}/notes", headers=h, json={"text": "Asked for the toilet"}
        ).status_code,
        http.get(f"/api/v1/staff/exams/{a}/notes", headers=h).status_code,
        http.post(
            f"/api/v1/staff/sessions/{s}/decisions",
            headers=h,
            json={"outcome": "no_action", "reason": "The second face was a poster on the wall."},
        ).status_code,
        http.get(f"/api/v1/staff/sessions/{s}/decisions", headers=h).status_code,
    )


# role -> (timeline, add note, read notes, record decision, read decisions)
MATRIX = {
    "admin": (403, 403, 403, 403, 403),
    "coordinator": (403, 403, 403, 403, 403),
    "invigilator": (200, 201, 200, 403, 200),
    "reviewer": (200, 201, 200, 201, 200),
    "examiner": (403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(MATRIX))
def test_review_access_matrix(http, server, world, role):
    h = login(server.url, role)
    assert actions(http, h, world) == MATRIX[role]
    erase = http.post(
        f"/api/v1/staff/evidence/{world['item'].id}/erase", headers=h, json={"reason": "x" * 20}
    )
    assert erase.status_code == (200 if role == "reviewer" else 403)


def test_other_exams_and_other_candidates_are_out_of_reach(http, server, world):
    h = login(server.url, "reviewer")
    other, b = world["other"], world["b"].exam_id
    assert http.get(f"/api/v1/staff/sessions/{other}/timeline", headers=h).status_code == 403
    r = http.post(
        f"/api/v1/staff/sessions/{other}/decisions", headers=h, json={"outcome": "report", "reason": "x" * 20}
    )
    assert r.status_code == 403
    assert http.post(f"/api/v1/staff/exams/{b}/notes", headers=h, json={"text": "hello"}).status_code == 403
    # A note in exam A about exam B's candidate: refused, and nothing is written.
    r = http.post(
        f"/api/v1/staff/exams/{world['a'].exam_id}/notes", headers=h, json={"text": "hm", "session_id": other}
    )
    assert r.status_code == 422
    assert http.get("/api/v1/staff/sessions/no-such-session/timeline", headers=h).status_code == 403
    assert (
        http.post(
            "/api/v1/staff/evidence/no-such-item/erase", headers=h, json={"reason": "x" * 20}
        ).status_code
        == 403
    )


def test_invigilator_notes_only_in_the_window(http, server, installation):
    past = make_exam(installation, n=1, start_offset=-600, minutes=60)
    h = login(server.url, "invigilator")
    r = http.post(f"/api/v1/staff/exams/{past.exam_id}/notes", headers=h, json={"text": "late note"})
    assert r.status_code == 403


def test_decisions_need_a_known_outcome_and_a_real_reason(http, server, world):
    h = login(server.url, "reviewer")
    url = f"/api/v1/staff/sessions/{world['session']}/decisions"
    bad = http.post(url, headers=h, json={"outcome": "guilty", "reason": "The software said so, clearly."})
    assert bad.status_code == 422
    assert "no_action, follow_up, report" in bad.json()["message"]
    short = http.post(url, headers=h, json={"outcome": "report", "reason": "  ok  "})
    assert short.status_code == 422
    assert "at least 10 characters" in short.json()["message"]
    assert http.post(url, headers=h, json={"outcome": "report", "reason": "x" * 6000}).status_code == 422
    first = http.post(
        url, headers=h, json={"outcome": "follow_up", "reason": "Ask the invigilator about 10:40."}
    )
    second = http.post(
        url, headers=h, json={"outcome": "no_action", "reason": "The invigilator saw the poster."}
    )
    assert (first.status_code, second.status_code) == (201, 201)
    history = http.get(url, headers=h).json()["decisions"]
    assert [d["outcome"] for d in history] == ["follow_up", "no_action"]  # the history stays
    timeline = http.get(f"/api/v1/staff/sessions/{world['session']}/timeline", headers=h).json()
    assert timeline["decision"]["outcome"] == "no_action"
    kinds = [e["kind"] for e in timeline["entries"]]
    assert {"activated", "evidence", "decision"} <= set(kinds)


def test_erasure_deletes_the_ciphertext_keeps_the_fact_and_cannot_be_undone(
    http, server, installation, world
):
    c, item = installation.container, world["item"]
    h = login(server.url, "reviewer")
    url = f"/api/v1/staff/evidence/{item.id}/erase"
    assert http.post(url, headers=h, json={"reason": "too short"}).status_code == 422
    r = http.post(url, headers=h, json={"reason": "A doctor's letter is readable on the screen."})
    assert r.status_code == 200, r.text
    assert c.store.size(item.blob_key) is None  # the ciphertext is gone
    assert http.post(url, headers=h, json={"reason": "A doctor's letter, again."}).status_code == 409
    assert http.get(f"/api/v1/staff/evidence/{item.id}", headers=h).status_code in (404, 409, 410)
    # The agent retries the same upload (it never heard the first answer): acknowledged, not restored.
    retry = world["agent"].put(item.client_id, "screenshot", world["sealed"])
    assert retry.status_code in (200, 201)
    assert retry.json()["status"] == "stored"
    with c.uow() as db:
        row = db.get(EvidenceItem, item.id)
        assert row.status == "erased"
        actions_logged = set(db.scalars(select(AccessLogEntry.action)))
    assert c.store.size(item.blob_key) is None
    assert "evidence.erase" in actions_logged
    timeline = http.get(f"/api/v1/staff/sessions/{world['session']}/timeline", headers=h).json()
    (entry,) = [e for e in timeline["entries"] if e["kind"] == "evidence"]
    assert entry["status"] == "erased"


def events(lines, n: int) -> list[tuple[str, dict]]:
    out, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            out.append((name, json.loads(line.removeprefix("data: "))))
            if len(out) == n:
                return out
    return out


def test_board_stream_sends_the_board_and_ends_when_access_ends(http, server, installation, world):
    a = world["a"].exam_id
    url = f"/api/v1/staff/exams/{a}/board/stream"
    h = login(server.url, "invigilator")
    with http.stream("GET", url, headers=h) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        ((name, board),) = events(r.iter_lines(), 1)
    assert name == "board"
    assert {s["session_id"] for s in board["sessions"]} >= {world["session"]}
    assert all("flags" in s for s in board["sessions"])  # invigilators see flag counts
    coordinator = login(server.url, "coordinator")
    with http.stream("GET", url, headers=coordinator) as r:
        ((_, board),) = events(r.iter_lines(), 1)
    assert not any("flags" in s for s in board["sessions"])  # coordinators see states, not flags
    for role, expected in (("examiner", 403), ("admin", 200)):
        with http.stream(
            "GET", f"/api/v1/staff/exams/{world['b'].exam_id}/board/stream", headers=login(server.url, role)
        ) as r:
            assert r.status_code == expected
    # Revoke the invigilator while they watch: the stream says so and ends.
    inv = installation.staff["invigilator"]
    with http.stream("GET", url, headers=h) as r:
        lines = r.iter_lines()
        assert events(lines, 1)[0][0] == "board"
        admin = login(server.url, "coordinator")
        assert http.delete(f"/api/v1/staff/exams/{a}/access/{inv}", headers=admin).status_code in (200, 204)
        name, data = events(lines, 1)[0]
    assert name == "end"
    assert "ended" in data["reason"]
