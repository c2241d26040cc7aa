"""The live board page (/exams/{id}/board) for every role, as a browser gets it: the page itself,
and the staff API it calls with the login cookie (the stream, evidence, notes) — states only for
admins and coordinators, flags and pictures for the exam's invigilators (in the window) and reviewers,
nothing for examiners, another exam's staff, or anyone after revocation. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from tests.factories import give_key, login, make_exam
from tests.integration.agentkit import activate
from tests.integration.test_review import events
from tests.integration.test_web_login import code_now, csrf, full_login

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels " * 40


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    """A browser-like client: it keeps the login cookie and sends no Authorization header."""
    with httpx.Client(base_url=server.url, timeout=20) as c:
        yield c


@pytest.fixture
def agent_http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as c:
        yield c


@pytest.fixture
def world(installation, agent_http):
    give_key(installation, "invigilator")
    give_key(installation, "reviewer")
    exam = make_exam(installation, n=2)
    agent = activate(agent_http, exam.codes[0])
    assert agent.heartbeat(1).status_code == 200
    shot = agent.upload("screenshot", PNG)
    return {"exam": exam, "agent": agent, "shot": shot}


def board(client: httpx.Client, exam_id: str) -> httpx.Response:
    return client.get(f"/exams/{exam_id}/board")


def first_board_event(client: httpx.Client, exam_id: str) -> dict:
    with client.stream("GET", f"/api/v1/staff/exams/{exam_id}/board/stream") as r:
        assert r.status_code == 200
        ((name, data),) = events(r.iter_lines(), 1)
    assert name == "board"
    return data


def test_an_assigned_invigilator_in_the_window_watches_the_board(client, installation, world):
    exam = world["exam"]
    full_login(client, "invigilator@uni.example")
    home = client.get("/home")
    assert f'href="/exams/{exam.exam_id}/board"' in home.text  # linked from the exam list
    page = board(client, exam.exam_id)
    assert page.status_code == 200
    assert "Test exam" in page.text
    assert 'data-sees-evidence="true"' in page.text
    assert 'id="unlock-form"' in page.text  # the key is unlocked on this page, once
    assert 'id="note-form"' in page.text
    assert '<script type="module" src="/static/board.js"></script>' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "img-src 'self' data: blob:" in csp  # pictures opened in the page are blob: URLs
    assert "unsafe" not in csp
    assert "<script>" not in page.text
    assert " style=" not in page.text
    assert "stays open to you until" in page.text  # when the window closes
    rows = first_board_event(client, exam.exam_id)["sessions"]
    assert {r["candidate"] for r in rows} == set(exam.pseudonyms)  # pseudonyms, never names
    assert "Person 0" not in str(rows)
    assert all(set(r["flags"]) == {"green", "yellow", "red"} for r in rows)
    running = next(r for r in rows if r["session_id"] == world["agent"].session_id)
    assert running["state"] == "running"
    assert running["last_heartbeat_at"]


def test_viewing_a_picture_through_the_page_lands_in_the_access_log(client, installation, world):
    exam, sid = world["exam"], world["agent"].session_id
    full_login(client, "invigilator@uni.example")
    token = csrf(board(client, exam.exam_id))
    listing = client.get(f"/api/v1/staff/sessions/{sid}/evidence").json()
    (item,) = [i for i in listing["items"] if i["client_id"] == world["shot"]]
    keys = client.get(f"/api/v1/staff/exams/{exam.exam_id}/keys").json()["keys"]
    assert any(k["sealed"] for k in keys)  # the invigilator's sealed copy, opened in the browser
    sealed = client.get(f"/api/v1/staff/evidence/{item['id']}")
    assert sealed.status_code == 200
    assert sealed.content.startswith(b"INVGENV1")  # ciphertext only; the page decrypts
    with installation.container.uow() as db:
        logged = db.scalars(
            select(AccessLogEntry).where(AccessLogEntry.actor_id == installation.staff["invigilator"])
        ).all()
        seen = {(e.action, e.item_id) for e in logged}
    assert ("evidence.read", item["id"]) in seen
    assert ("evidence.list", None) in seen
    assert ("key.fetch", None) in seen

    # Incident notes from the panel: the CSRF header is required, the note is listed afterwards.
    url = f"/api/v1/staff/exams/{exam.exam_id}/notes"
    body = {"text": "Asked to leave the room for two minutes.", "session_id": sid}
    assert client.post(url, json=body).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    r = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    notes = client.get(url).json()["notes"]
    assert [(n["session_id"], n["text"]) for n in notes] == [(sid, body["text"])]


def test_an_invigilator_of_another_exam_is_refused(client, installation, world):
    other = make_exam(installation, n=1, assign=False)
    full_login(client, "invigilator@uni.example")
    page = board(client, other.exam_id)
    assert page.status_code == 403
    assert "not assigned to it, or it does not exist" in page.text
    assert "Test exam" not in page.text
    # The same answer as an id that does not exist: ids cannot be probed.
    missing = board(client, "no-such-exam")
    assert missing.status_code == 403
    assert re.sub(r"\s+", " ", missing.text) == re.sub(r"\s+", " ", page.text)
    r = client.get(f"/api/v1/staff/exams/{other.exam_id}/board/stream")
    assert r.status_code == 403


@pytest.mark.parametrize(("offset", "says"), [(-600, "It closed at"), (300, "It opens at")])
def test_an_invigilator_outside_the_window_is_told_when_it_opens(client, installation, offset, says):
    exam = make_exam(installation, n=1, start_offset=offset, minutes=60)
    full_login(client, "invigilator@uni.example")
    page = board(client, exam.exam_id)
    assert page.status_code == 403
    assert "The board is open only during the exam" in page.text
    assert says in page.text
    assert 'id="board"' not in page.text
    assert client.get(f"/api/v1/staff/exams/{exam.exam_id}/board/stream").status_code == 403


def test_a_reviewer_sees_the_board_with_flags_also_after_the_exam(client, installation, world):
    past = make_exam(installation, n=1, start_offset=-600, minutes=60)
    full_login(client, "reviewer@uni.example")
    for exam_id in (world["exam"].exam_id, past.exam_id):
        page = board(client, exam_id)
        assert page.status_code == 200
        assert 'data-sees-evidence="true"' in page.text
        assert 'data-writes-notes="true"' in page.text
        assert "stays open to you until" not in page.text  # reviewers have no window
    rows = first_board_event(client, world["exam"].exam_id)["sessions"]
    assert all("flags" in r for r in rows)


def test_examiners_are_refused(client, installation, world):
    full_login(client, "examiner@uni.example")
    page = board(client, world["exam"].exam_id)
    assert page.status_code == 403
    assert "Examiners see no proctoring data" in page.text
    assert f"/exams/{world['exam'].exam_id}/board" not in client.get("/home").text


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_admins_and_coordinators_see_states_only(client, installation, world, role):
    exam = world["exam"]
    full_login(client, f"{role}@uni.example")
    assert f'href="/exams/{exam.exam_id}/board"' in client.get("/home").text
    page = board(client, exam.exam_id)
    assert page.status_code == 200
    assert 'data-sees-evidence="false"' in page.text
    assert "sees each candidate's state only: no flags, pictures or incident notes" in page.text
    for absent in (
        'id="panel"',
        'id="unlock-form"',
        'id="only-flagged"',
        'data-sort="red"',
        "data-behaviours",
    ):
        assert absent not in page.text, absent
    assert "blob:" not in page.headers["content-security-policy"]
    rows = first_board_event(client, exam.exam_id)["sessions"]
    assert {r["state"] for r in rows} == {"running", "issued"}
    assert not any("flags" in r for r in rows)  # states, not flags
    sid = world["agent"].session_id
    for url in (
        f"/api/v1/staff/sessions/{sid}/evidence",
        f"/api/v1/staff/sessions/{sid}/flags",
        f"/api/v1/staff/exams/{exam.exam_id}/notes",
        f"/api/v1/staff/exams/{exam.exam_id}/keys",
    ):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    r = board(client, world["exam"].exam_id)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    assert client.get(f"/api/v1/staff/exams/{world['exam'].exam_id}/board/stream").status_code == 401


def test_a_reviewer_is_refused_after_revocation(client, server, installation, world):
    exam = world["exam"]
    full_login(client, "reviewer@uni.example")
    assert board(client, exam.exam_id).status_code == 200
    coordinator = login(server.url, "coordinator")
    reviewer = installation.staff["reviewer"]
    r = httpx.delete(f"{server.url}/api/v1/staff/exams/{exam.exam_id}/access/{reviewer}", headers=coordinator)
    assert r.status_code in (200, 204), r.text
    page = board(client, exam.exam_id)
    assert page.status_code == 403
    assert "not assigned to it" in page.text
    assert client.get(f"/api/v1/staff/exams/{exam.exam_id}/board/stream").status_code == 403
    # A fresh login changes nothing.
    client.post("/logout", data={"csrf_token": csrf(client.get("/home"))})
    full_login(client, "reviewer@uni.example", code_now("reviewer@uni.example", 1))
    assert board(client, exam.exam_id).status_code == 403


def test_the_stream_ends_with_the_login_that_opened_it(client, server, installation, world):
    """A board left open must not outlive its login: logging out (or idling out) elsewhere ends it,
    and the stream's own ticks do not count as activity."""
    exam_id = world["exam"].exam_id
    assert (
        full_login(client, "invigilator@uni.example", code_now("invigilator@uni.example")).status_code == 303
    )
    token = csrf(client.get("/home"))
    with client.stream("GET", f"/api/v1/staff/exams/{exam_id}/board/stream") as r:
        lines = r.iter_lines()
        assert events(lines, 1)[0][0] == "board"
        # The same person logs out in another tab of the same browser.
        with httpx.Client(base_url=server.url, cookies=dict(client.cookies)) as other_tab:
            assert other_tab.post("/logout", data={"csrf_token": token}).status_code == 303
        (name, data), *_ = events(lines, 1)
    assert name == "end"
    assert "login" in data["reason"]
