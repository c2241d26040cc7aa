"""Data-subject requests and key grants on the administration pages, over HTTP against the real app:
who may decide a request (every role), CSRF, the reason rule, the erasure's confirmation and what it
erases, a restriction put in force and lifted; who sees "Give access" on the staff-access page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from invigil.accounts.models import Role
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import CandidateIdentity
from invigil.kit.clock import utcnow
from invigil.privacy import requests
from invigil.privacy.models import SubjectRequest
from invigil.sessions.models import ExamSession
from tests.factories import Installation, add_staff, give_key, make_exam
from tests.integration import test_admin_pages as admin_pages
from tests.integration.agentkit import activate
from tests.integration.test_admin_pages import entries

# The same fixtures as the other administration pages' tests: settings without jobs, logged-in tabs.
settings = admin_pages.settings
tabs = admin_pages.tabs

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels " * 50
REASON = "Written request of 22 Nov, identity checked by the exam office."


def open_request(inst: Installation, session_id: str, kind: str) -> str:
    with inst.container.uow() as db:
        session = db.get(ExamSession, session_id)
        assert session is not None
        return requests.register(db, session, kind, "E-mail", inst.staff["coordinator"], utcnow()).id


def status_of(inst: Installation, request_id: str) -> str:
    with inst.container.uow() as db:
        r = db.get(SubjectRequest, request_id)
        assert r is not None
        return r.status


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("coordinator", True), ("reviewer", True), ("invigilator", False), ("examiner", False)],
)
def test_who_may_decide_a_request(server, installation, tabs, role, allowed):
    exam = make_exam(installation, n=1)
    rid = open_request(installation, exam.session_ids[0], "restriction")
    path = f"/admin/exams/{exam.exam_id}"
    page = tabs[role].http.get(f"{path}/privacy")
    r = tabs[role].post(f"{path}/requests/{rid}/refuse", {"reason": REASON})
    if allowed:
        assert page.status_code == 200
        assert f"{path}/requests/{rid}/carry-out" in page.text
        assert r.status_code == 200, r.text
        assert "The request was refused" in r.text
        assert status_of(installation, rid) == "refused"
        [logged] = entries(installation, "request.refuse")
        assert logged.actor_id == installation.staff[role]
    else:
        assert page.status_code == r.status_code == 403
        assert "Not for your role" in r.text
        assert status_of(installation, rid) == "open"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reviewer_of_another_exam_may_not(server, installation, tabs):
    mine, other = make_exam(installation, n=1), make_exam(installation, n=1, assign=False)
    rid = open_request(installation, other.session_ids[0], "erasure")
    reviewer = tabs["reviewer"]
    for exam_id in (other.exam_id, mine.exam_id):  # another exam's request, also through one's own exam
        r = reviewer.post(f"/admin/exams/{exam_id}/requests/{rid}/refuse", {"reason": REASON})
        assert r.status_code in (403, 422), exam_id
    assert status_of(installation, rid) == "open"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_csrf_and_a_short_reason_are_refused(server, installation, tabs):
    exam = make_exam(installation, n=1)
    rid = open_request(installation, exam.session_ids[0], "restriction")
    coordinator = tabs["coordinator"]
    path = f"/admin/exams/{exam.exam_id}"
    for action in ("carry-out", "refuse", "lift"):
        r = coordinator.http.post(f"{path}/requests/{rid}/{action}", data={"reason": REASON})
        assert r.status_code == 403
        assert "did not come from this Invigil page" in r.text
        forged = {"reason": REASON, "csrf_token": "forged"}
        assert coordinator.http.post(f"{path}/requests/{rid}/{action}", data=forged).status_code == 403
    r = coordinator.http.post(f"{path}/requests", data={"session_id": exam.session_ids[0], "kind": "erasure"})
    assert r.status_code == 403
    r = coordinator.post(f"{path}/requests/{rid}/carry-out", {"reason": "because"})
    assert r.status_code == 422
    assert "at least 10 characters" in r.text
    assert "because" in r.text  # what was typed is kept in the form
    assert coordinator.post(f"{path}/requests/{rid}/nonsense", {"reason": REASON}).status_code == 404
    assert status_of(installation, rid) == "open"
    with installation.container.uow() as db:
        assert len(db.scalars(select(SubjectRequest)).all()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_erasure_needs_its_confirmation_then_erases_evidence_and_name(server, installation, tabs):
    import httpx

    exam = make_exam(installation, n=1)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        agent = activate(http, exam.codes[0])
        shot = agent.upload("screenshot", PNG)
    with installation.container.uow() as db:
        item = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == shot))
        assert item is not None
        blob = item.blob_key
    assert installation.container.store.get(blob)
    reviewer = tabs["reviewer"]
    path = f"/admin/exams/{exam.exam_id}"
    r = reviewer.post(
        f"{path}/requests", {"session_id": agent.session_id, "kind": "erasure", "note": "Letter of 21 Nov"}
    )
    assert r.status_code == 200
    assert "The request is registered" in r.text
    assert "it cannot be undone" in r.text
    [rid] = re.findall(rf"{path}/requests/(\w+)/carry-out", r.text)

    r = reviewer.post(f"{path}/requests/{rid}/carry-out", {"reason": REASON})
    assert r.status_code == 422
    assert "Tick the box to confirm the erasure" in r.text
    assert status_of(installation, rid) == "open"

    r = reviewer.post(f"{path}/requests/{rid}/carry-out", {"reason": REASON, "confirm": "yes"})
    assert r.status_code == 200, r.text
    assert "data was erased (1 evidence items" in r.text
    assert status_of(installation, rid) == "done"
    with installation.container.uow() as db:
        item = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == shot))
        assert item is not None
        assert item.status == "erased"
        assert db.scalars(select(CandidateIdentity)).all() == []
    with pytest.raises(Exception):  # noqa: B017, PT011  # each store raises its own "not found"
        installation.container.store.get(blob)
    [logged] = entries(installation, "request.erasure")
    assert logged.actor_id == installation.staff["reviewer"]
    r = reviewer.post(f"{path}/requests/{rid}/refuse", {"reason": REASON})
    assert r.status_code == 409  # decided once


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_restriction_is_put_in_force_then_lifted(server, installation, tabs):
    exam = make_exam(installation, n=1)
    session = exam.session_ids[0]
    rid = open_request(installation, session, "restriction")
    coordinator, reviewer = tabs["coordinator"], tabs["reviewer"]
    path = f"/admin/exams/{exam.exam_id}"
    evidence = f"/api/v1/staff/sessions/{session}/evidence"
    assert reviewer.http.get(evidence).status_code == 200
    r = coordinator.post(f"{path}/requests/{rid}/carry-out", {"reason": REASON})
    assert r.status_code == 200
    assert "The restriction is in force" in r.text
    assert f"{path}/requests/{rid}/lift" in r.text
    assert reviewer.http.get(evidence).status_code == 403
    assert coordinator.post(f"{path}/requests/{rid}/lift", {"reason": "short"}).status_code == 422
    r = coordinator.post(f"{path}/requests/{rid}/lift", {"reason": "The student's complaint was resolved."})
    assert r.status_code == 200
    assert "The restriction was lifted" in r.text
    assert status_of(installation, rid) == "lifted"
    assert reviewer.http.get(evidence).status_code == 200
    assert [e.action for e in entries(installation, "request.lift")] == ["request.lift"]
    assert coordinator.post(f"{path}/requests/{rid}/lift", {"reason": REASON}).status_code == 409


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_give_access_is_offered_to_key_holders_and_the_office_is_told_who_they_are(
    server, installation, tabs
):
    give_key(installation, "reviewer")  # before the exam: the reviewer holds its keys at once
    exam = make_exam(installation, n=1)
    with installation.container.uow() as db:  # a candidate activated: newcomers wait for a grant
        row = db.get(ExamSession, exam.session_ids[0])
        assert row is not None
        row.code_used_at = row.activated_at = utcnow()
    late = add_staff(installation, Role.REVIEWER, "late@uni.example")
    give_key(installation, "", staff_id=late)
    path = f"/admin/exams/{exam.exam_id}/access"
    assert tabs["coordinator"].post(path, {"staff_id": late}).status_code == 200

    office = tabs["coordinator"].http.get(path).text
    assert "Give access" not in office
    assert "grants.js" not in office
    assert "You hold no copy of this exam's keys" in office
    assert "Reviewer (reviewer@uni.example, reviewer)" in office
    assert f"invigil keys grant --exam {exam.exam_id}" in office  # the CLI stays the fallback

    holder = tabs["reviewer"].http.get(path)
    assert holder.status_code == 200
    assert '<script type="module" src="/static/grants.js">' in holder.text
    assert f'data-grant="{late}"' in holder.text
    assert 'id="unlock-form"' in holder.text
    assert "script-src 'self'" in holder.headers["content-security-policy"]
    assert "late@uni.example" in holder.text
    assert f"invigil keys grant --exam {exam.exam_id}" in holder.text
    assert "/revoke" not in holder.text  # removing people stays the office's
    r = tabs["reviewer"].post(path, {"staff_id": installation.staff["invigilator"]})
    assert r.status_code == 403
