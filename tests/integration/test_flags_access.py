"""Who may read flags and change rules: every role, another exam's reviewer, an invigilator after the
window. Every read of flags is in the access log."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from invigil.accounts.models import Role
from invigil.analysis.base import Detection
from invigil.audit.models import AccessLogEntry
from invigil.exams import repository as exams_repo
from invigil.flags import service
from invigil.kit.clock import utcnow
from tests import factories
from tests.factories import add_staff, make_exam


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off"})


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def login_as(http: httpx.Client, email: str) -> dict[str, str]:
    return factories.login_as(str(http.base_url).rstrip("/"), email)


def flag_one(c, exam_id: str, session_id: str) -> None:
    now = utcnow()
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        assert exam is not None
        d = Detection("process.forbidden", 1.0, now, now, ("item-0001",), {"matches": []})
        service.record(db, exam_id, session_id, "worker", [d])
        service.rebuild(db, exam, session_id)


@pytest.fixture
def world(installation):
    c = installation.container
    live = make_exam(installation, n=1)
    past = make_exam(installation, n=1, start_offset=-300, minutes=60)  # window long over
    other = make_exam(installation, n=1, assign=False)
    for e in (live, past, other):
        flag_one(c, e.exam_id, e.session_ids[0])
    # A reviewer assigned to the other exam only.
    from invigil.accounts.models import Staff
    from invigil.exams import service as exams

    rid = add_staff(installation, Role.REVIEWER, "other-reviewer@uni.example")
    with c.uow() as db:
        exam, staff = exams_repo.get(db, other.exam_id), db.get(Staff, rid)
        assert exam is not None
        assert staff is not None
        exams.assign(db, exam, staff, Role.REVIEWER)
    return {"live": live, "past": past, "other": other}


# who -> (session flags of live, exam flags of live, cohort of live, session flags of past exam)
READ = {
    "admin@uni.example": (403, 403, 403, 403),
    "coordinator@uni.example": (403, 403, 403, 403),
    "invigilator@uni.example": (200, 200, 200, 403),
    "reviewer@uni.example": (200, 200, 200, 200),
    "examiner@uni.example": (403, 403, 403, 403),
    "other-reviewer@uni.example": (403, 403, 403, 403),
}


@pytest.mark.parametrize("email", list(READ))
def test_who_reads_flags(http, world, email):
    h = login_as(http, email)
    live, past = world["live"], world["past"]
    got = (
        http.get(f"/api/v1/staff/sessions/{live.session_ids[0]}/flags", headers=h).status_code,
        http.get(f"/api/v1/staff/exams/{live.exam_id}/flags", headers=h).status_code,
        http.get(f"/api/v1/staff/exams/{live.exam_id}/cohort", headers=h).status_code,
        http.get(f"/api/v1/staff/sessions/{past.session_ids[0]}/flags", headers=h).status_code,
    )
    assert got == READ[email]


def test_other_reviewer_sees_only_their_exam_and_refusals_look_alike(http, world):
    h = login_as(http, "other-reviewer@uni.example")
    r = http.get(f"/api/v1/staff/sessions/{world['other'].session_ids[0]}/flags", headers=h)
    assert r.status_code == 200
    assert len(r.json()["flags"]) == 1
    no_such = http.get("/api/v1/staff/sessions/nosuchsession0000/flags", headers=h)
    not_yours = http.get(f"/api/v1/staff/sessions/{world['live'].session_ids[0]}/flags", headers=h)
    assert no_such.status_code == not_yours.status_code == 403
    assert no_such.json()["message"] == not_yours.json()["message"]


# who -> (GET exam rules, PUT exam rules, PUT institution defaults)
RULES = {
    "admin@uni.example": (200, 200, 200),
    "coordinator@uni.example": (200, 200, 403),
    "invigilator@uni.example": (200, 403, 403),
    "reviewer@uni.example": (200, 403, 403),
    "examiner@uni.example": (403, 403, 403),
    "other-reviewer@uni.example": (403, 403, 403),
}


@pytest.mark.parametrize("email", list(RULES))
def test_who_edits_rules(http, world, email):
    h = login_as(http, email)
    eid = world["live"].exam_id
    body = {"rules": {"process.forbidden": {"severity": "yellow"}}}
    got = (
        http.get(f"/api/v1/staff/exams/{eid}/flag-rules", headers=h).status_code,
        http.put(f"/api/v1/staff/exams/{eid}/flag-rules", json=body, headers=h).status_code,
        http.put("/api/v1/staff/flag-rules", json=body, headers=h).status_code,
    )
    assert got == RULES[email]
    # A refused edit changed nothing.
    reviewer = login_as(http, "reviewer@uni.example")
    flags = http.get(f"/api/v1/staff/sessions/{world['live'].session_ids[0]}/flags", headers=reviewer).json()
    expected = "yellow" if RULES[email][1] == 200 else "red"
    assert [f["severity"] for f in flags["flags"]] == [expected]


def test_every_flag_read_is_logged(http, installation, world):
    h = login_as(http, "reviewer@uni.example")
    sid, eid = world["live"].session_ids[0], world["live"].exam_id
    http.get(f"/api/v1/staff/sessions/{sid}/flags", headers=h)
    http.get(f"/api/v1/staff/exams/{eid}/flags", headers=h)
    http.get(f"/api/v1/staff/exams/{eid}/cohort", headers=h)
    examiner = login_as(http, "examiner@uni.example")
    http.get(f"/api/v1/staff/sessions/{sid}/flags", headers=examiner)
    with installation.container.uow() as db:
        rows = db.scalars(
            select(AccessLogEntry).where(
                AccessLogEntry.action.in_(["flags.read", "flags.list", "cohort.read"])
            )
        ).all()
    assert sorted((r.action, r.exam_id, r.session_id) for r in rows) == [
        ("cohort.read", eid, None),
        ("flags.list", eid, None),
        ("flags.read", eid, sid),
    ]
    assert all(r.actor_id == installation.staff["reviewer"] for r in rows)  # refusals read nothing


def test_a_flag_is_never_acted_on(http, installation, world):
    """Flags change no session state and revoke nothing: the session runs on as before."""
    from invigil.sessions.models import ExamSession

    with installation.container.uow() as db:
        before = db.get(ExamSession, world["live"].session_ids[0])
        assert before is not None
        state = before.state
    flag_one(installation.container, world["live"].exam_id, world["live"].session_ids[0])
    with installation.container.uow() as db:
        after = db.get(ExamSession, world["live"].session_ids[0])
        assert after is not None
        assert after.state == state
