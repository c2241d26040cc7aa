"""The exam office's administration pages over HTTP against the real app: who may open each page,
CSRF on every change, the policy editor's validation in a coordinator's words, the CSV import (bad
rows, oversized files, nothing half-imported), codes, staff and institution settings, access and
legal holds — and that every change lands in the hash-chained access log, as through the API."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from invigil.accounts.models import Role, Staff
from invigil.audit.models import AccessLogEntry
from invigil.config import Settings
from invigil.exams.models import Candidate, Exam
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.sessions.models import ExamSession
from tests.factories import PASSWORD, Installation, add_staff, credentials, give_key, make_exam

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROLES = ("admin", "coordinator", "invigilator", "reviewer", "examiner")


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, kdf_iterations=1000, run_jobs_in_process=False
    )


def csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


class Tab:
    """A logged-in browser: its cookie jar and its session's CSRF token."""

    def __init__(self, url: str, email: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        r = self.http.post(
            "/login",
            data={"csrf_token": csrf(self.http.get("/login")), "email": email, "password": PASSWORD},
        )
        assert r.headers["location"] == "/login/code", r.text
        code = credentials(url, email)["totp"]
        r = self.http.post(
            "/login/code", data={"csrf_token": csrf(self.http.get("/login/code")), "code": code}
        )
        assert r.headers["location"] == "/home", r.text
        self.token = csrf(self.http.get("/home"))

    def post(self, path: str, data: dict[str, str] | None = None, **kw: object) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)  # type: ignore[arg-type]


@pytest.fixture
def tabs(server) -> Iterator[dict[str, Tab]]:
    opened: dict[str, Tab] = {}

    class Lazy(dict):  # log each role in only when a test needs it
        def __missing__(self, role: str) -> Tab:
            opened[role] = self[role] = Tab(server.url, f"{role}@uni.example")
            return opened[role]

    yield Lazy()  # type: ignore[misc]
    for tab in opened.values():
        tab.http.close()


def entries(inst: Installation, action: str) -> list[AccessLogEntry]:
    with inst.container.uow() as db:
        rows = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == action)).all()
        db.expunge_all()
        return list(rows)


def exam_form(**overrides: str) -> dict[str, str]:
    form = {
        "title": "Organic Chemistry 2",
        "starts_at": "2031-06-12T09:00",
        "ends_at": "2031-06-12T13:00",
        "timezone": "Europe/Copenhagen",
        "region": "eu-north",
        "policy.screenshots.enabled": "on",
        "policy.screenshots.interval.min_seconds": "60",
        "policy.screenshots.interval.max_seconds": "180",
        "policy.process_snapshots.enabled": "on",
        "policy.process_snapshots.interval_seconds": "60",
        "policy.process_snapshots.forbidden": "discord\nteamviewer*",
        "policy.handin_folder_backup.enabled": "on",
        "policy.removable_storage.mode": "record",
        "policy.webcam.mode": "snapshots",
        "policy.webcam.interval.min_seconds": "30",
        "policy.webcam.interval.max_seconds": "90",
        "policy.webcam.clip_seconds": "10",
        "policy.microphone.mode": "detection",
        "policy.tail_minutes": "10",
        "policy.offline_minutes": "10",
    }
    for category, days in {
        "webcam": 21,
        "screen": 90,
        "audio": 21,
        "process_and_browser_logs": 90,
        "biometric": 21,
        "handins": 1825,
        "flags_and_decisions": 365,
        "access_and_audit_logs": 365,
        "identity": 180,
    }.items():
        form[f"retention.{category}"] = str(days)
    form.update(overrides)
    return form


def test_who_may_open_each_page(server, installation, tabs):
    exam = make_exam(installation, n=1)
    e = exam.exam_id
    office = [
        "/admin/exams",
        "/admin/exams/new",
        f"/admin/exams/{e}",
        f"/admin/exams/{e}/edit",
        f"/admin/exams/{e}/candidates",
        f"/admin/exams/{e}/assignment",
        f"/admin/exams/{e}/access",
        f"/admin/exams/{e}/privacy",
        f"/admin/exams/{e}/notice",
    ]
    admin_only = ["/admin/institution", "/admin/staff"]
    with httpx.Client(base_url=server.url) as anonymous:
        for path in office + admin_only:
            r = anonymous.get(path)
            assert (r.status_code, r.headers.get("location")) == (303, "/login"), path
    for path in office + admin_only:
        r = tabs["admin"].http.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert "script-src 'self'" in r.headers["content-security-policy"]
    for path in office:
        assert tabs["coordinator"].http.get(path).status_code == 200, path
    for path in admin_only:
        r = tabs["coordinator"].http.get(path)
        assert r.status_code == 403, path
        assert "Only administrators" in r.text
    # The exam's key holders see its staff access (to pass the keys on); its reviewers also handle
    # holds and data-subject requests, as through the API. Nothing else of the office is theirs.
    opened = {
        "invigilator": {f"/admin/exams/{e}/access"},
        "reviewer": {f"/admin/exams/{e}/access", f"/admin/exams/{e}/privacy"},
        "examiner": set(),
    }
    for role, allowed in opened.items():
        for path in office + admin_only:
            r = tabs[role].http.get(path)
            if path in allowed:
                assert r.status_code == 200, (role, path)
                assert "Assign someone" not in r.text
                assert "/revoke" not in r.text
                assert 'href="/admin/exams"' not in r.text
            else:
                assert r.status_code == 403, (role, path)
                assert "Not for your role" in r.text
    home = tabs["coordinator"].http.get("/home").text
    assert 'href="/admin/exams"' in home
    assert 'href="/admin/staff"' not in home
    assert 'href="/admin/staff"' in tabs["admin"].http.get("/home").text
    assert 'href="/admin/exams"' not in tabs["reviewer"].http.get("/home").text
    assert f'href="/admin/exams/{e}/privacy"' in tabs["reviewer"].http.get("/home").text
    # Not assigned: the same 403 as for an exam that does not exist.
    other = make_exam(installation, n=1, assign=False).exam_id
    for path in (f"/admin/exams/{other}/access", f"/admin/exams/{other}/privacy"):
        assert tabs["reviewer"].http.get(path).status_code == 403


def test_every_change_needs_the_csrf_token(server, installation, tabs):
    exam = make_exam(installation, n=1)
    coordinator, admin = tabs["coordinator"], tabs["admin"]
    for path, data in (
        ("/admin/exams/new", exam_form()),
        (f"/admin/exams/{exam.exam_id}/candidates", {"csv": "full_name\nAda"}),
        (f"/admin/exams/{exam.exam_id}/codes", {}),
        (f"/admin/exams/{exam.exam_id}/holds", {"reason": "Complaint 2031-17 is open"}),
    ):
        r = coordinator.http.post(path, data=data)
        assert r.status_code == 403, path
        assert "did not come from this Invigil page" in r.text
        r = coordinator.http.post(path, data={**data, "csrf_token": "forged"})
        assert r.status_code == 403, path
    r = admin.http.post("/admin/staff", data={"email": "x@uni.example", "name": "X", "role": "reviewer"})
    assert r.status_code == 403
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Exam)) == 1
        assert db.scalar(select(func.count()).select_from(Candidate)) == 1
        assert db.scalar(select(Staff).where(Staff.email == "x@uni.example")) is None


def test_create_and_edit_an_exam_through_the_policy_editor(server, installation, tabs):
    coordinator = tabs["coordinator"]
    page = coordinator.http.get("/admin/exams/new")
    for label in (
        "Screenshots",
        "Webcam",
        "Microphone",
        "Running programs",
        "Browser history",
        "Hand-in backup",
        "USB sticks",
        "Clipboard",
        "Room scan",
        "ID check",
        "Biometric face verification",
        "Recording after hand-in",
        "Allowed offline time",
    ):
        assert label in page.text, label
    assert "privacy cost: high" in page.text
    assert "Shows the candidate&#39;s face and home" in page.text

    summary = coordinator.post("/admin/exams/policy-summary", exam_form())
    assert "Privacy cost: 5" in summary.text  # screenshots 2 + programs 1 + backup 1 + USB 1
    assert "highest: medium" in summary.text

    r = coordinator.post("/admin/exams/new", exam_form())
    assert r.status_code == 303, r.text[:2000]
    exam_id = r.headers["location"].rsplit("/", 1)[1]
    with installation.container.uow() as db:
        exam = db.get(Exam, exam_id)
        assert exam is not None
        assert exam.policy["screenshots"]["enabled"]
        assert not exam.policy["webcam"]["enabled"]
        assert exam.policy["process_snapshots"]["forbidden"] == ["discord", "teamviewer*"]
        assert exam.policy["tail_period_seconds"] == 600
        assert exam.retention["screen"] == 90
        assert exam.starts_at.isoformat() == "2031-06-12T07:00:00+00:00"  # 09:00 in Copenhagen (CEST)
    created = entries(installation, "exam.create")
    assert [(x.actor_id, x.exam_id) for x in created] == [(installation.staff["coordinator"], exam_id)]

    edited = exam_form(**{"title": "Organic Chemistry 2 (resit)", "policy.screenshots.enabled": ""})
    r = coordinator.post(f"/admin/exams/{exam_id}/edit", edited)
    assert r.status_code == 303, r.text[:2000]
    [update] = entries(installation, "exam.update")
    assert update.actor_id == installation.staff["coordinator"]
    assert update.detail["policy_changed"] is True
    assert "Organic Chemistry 2 (resit)" in coordinator.http.get("/admin/exams").text


def test_settings_are_fixed_once_a_candidate_has_activated(server, installation, tabs):
    exam = make_exam(installation, n=1)
    with installation.container.uow() as db:
        session = db.get(ExamSession, exam.session_ids[0])
        assert session is not None
        session.code_used_at = session.activated_at = utcnow()
    coordinator = tabs["coordinator"]
    page = coordinator.http.get(f"/admin/exams/{exam.exam_id}/edit")
    assert 'id="locked"' in page.text
    r = coordinator.post(f"/admin/exams/{exam.exam_id}/edit", exam_form())
    assert r.status_code == 409
    assert "A candidate has already activated this exam" in r.text
    with installation.container.uow() as db:
        row = db.get(Exam, exam.exam_id)
        assert row is not None
        assert row.title == "Test exam"
    assert entries(installation, "exam.update") == []


def test_policy_problems_are_shown_next_to_their_fields(server, installation, tabs):
    coordinator = tabs["coordinator"]
    r = coordinator.post(
        "/admin/exams/new",
        exam_form(
            **{
                "policy.screenshots.interval.min_seconds": "300",
                "policy.screenshots.interval.max_seconds": "60",
                "policy.webcam.clip_seconds": "500",
                "policy.tail_minutes": "90",
            }
        ),
    )
    assert r.status_code == 422
    assert 'id="screenshots-interval-error"' in r.text
    assert (
        "The interval runs from 300 to 60 seconds: the first number must not be larger than the second."
        in r.text
    )
    assert 'id="webcam-clip_seconds-error">Must be at most 60.' in r.text
    assert 'id="tail_minutes-error">Must be 0 to 60 minutes.' in r.text
    assert 'aria-invalid="true" aria-describedby="tail_minutes-error"' in r.text
    assert "Nothing was saved" in r.text

    r = coordinator.post("/admin/exams/new", exam_form(**{"policy.face_verification.enabled": "on"}))
    assert r.status_code == 422
    assert "Biometric face verification need the webcam: switch the webcam on, or switch these off." in r.text
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Exam)) == 0
    assert entries(installation, "exam.create") == []


def test_csv_import_refuses_a_bad_file_whole_and_issues_working_codes(server, installation, tabs):
    exam = make_exam(installation, n=0)
    coordinator = tabs["coordinator"]
    path = f"/admin/exams/{exam.exam_id}/candidates"
    before = len(entries(installation, "candidates.add"))  # make_exam's own (empty) registration
    bad = (
        "pseudonym,full_name,email\nS-1001,Ada Lovelace,ada@student.example\nno!,Bad Id,\n"
        "S-1001,Twice,\nS-1003,x,not-an-email\n"
    )
    r = coordinator.post(path, {"csv": bad})
    assert r.status_code == 422
    assert "Nothing was imported: 3 problems in the file" in r.text
    assert "<td>3</td><td>pseudonym &#39;no!&#39; must be 3-32 letters, digits or dashes</td>" in r.text
    assert "<td>4</td><td>pseudonym S-1001 is also on line 2</td>" in r.text
    assert "<td>5</td><td>&#39;not-an-email&#39; is not an email address</td>" in r.text
    r = coordinator.post(path, {"csv": "name;colour\nAda;blue\n"})
    assert r.status_code == 422
    assert "unknown column &#39;colour&#39;" in r.text
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Candidate)) == 0
    assert len(entries(installation, "candidates.add")) == before

    good = "pseudonym,full_name,student_number\nS-1001,Ada Lovelace,s1001\n,Grace Hopper,s1002\n"
    sheet = coordinator.post(path, {"csv": good, "format": "sheet"})
    assert sheet.status_code == 200
    codes = re.findall(r'<p class="code">([^<]+)</p>', sheet.text)
    assert len(codes) == 2
    assert "Ada Lovelace" in sheet.text
    assert "S-1001" in sheet.text
    with installation.container.uow() as db:
        for code in codes:
            assert db.scalar(select(ExamSession).where(ExamSession.code_hash == tokens.token_hash(code)))
    [added] = entries(installation, "candidates.add")[before:]
    assert (added.actor_id, added.detail["candidates"]) == (installation.staff["coordinator"], 2)
    assert "Ada" not in str(added.detail)  # never names in the log

    exported = coordinator.post(path, {"csv": "full_name\nKatherine Johnson\n", "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["full_name"] == "Katherine Johnson"
    assert row["pseudonym"].startswith("C-")

    listing = coordinator.http.get(path)
    assert "Grace Hopper" in listing.text
    assert "S-1001" in listing.text
    assert entries(installation, "candidates.list")[-1].actor_id == installation.staff["coordinator"]


def test_an_oversized_upload_is_refused_before_anything_is_imported(server, installation, tabs):
    exam = make_exam(installation, n=0)
    huge = "full_name\n" + "A Candidate Name\n" * 250_000  # ~4 MiB
    r = tabs["coordinator"].post(f"/admin/exams/{exam.exam_id}/candidates", {"csv": huge})
    assert r.status_code == 413
    assert "larger than" in r.text
    over_roster_limit = "full_name\n" + "A Candidate Name\n" * 70_000  # ~1.2 MiB: fits the form, not the file
    r = tabs["coordinator"].post(f"/admin/exams/{exam.exam_id}/candidates", {"csv": over_roster_limit})
    assert r.status_code == 422
    assert "larger than 1024 KiB" in r.text
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Candidate)) == 0


def test_reissue_a_code(server, installation, tabs):
    exam = make_exam(installation, n=2)
    r = tabs["coordinator"].post(f"/admin/exams/{exam.exam_id}/codes", {"session_id": exam.session_ids[0]})
    assert r.status_code == 200
    [code] = re.findall(r'<p class="code">([^<]+)</p>', r.text)
    assert code != exam.codes[0]
    with installation.container.uow() as db:
        session = db.get(ExamSession, exam.session_ids[0])
        assert session is not None
        assert session.code_hash == tokens.token_hash(code)
    [reissued] = entries(installation, "code.reissue")
    assert (reissued.actor_id, reissued.session_id or reissued.detail["session_id"]) == (
        installation.staff["coordinator"],
        exam.session_ids[0],
    )
    everyone = tabs["coordinator"].post(f"/admin/exams/{exam.exam_id}/codes", {"format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(everyone.text)))) == 2


def test_admins_manage_staff_accounts_and_roles(server, installation, tabs):
    admin = tabs["admin"]
    r = admin.post(
        "/admin/staff", {"email": "New.Reviewer@uni.example", "name": "Nina Reviewer", "role": "reviewer"}
    )
    assert r.status_code == 200
    password = re.search(r'id="initial-password"[^>]*>([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
    [created] = entries(installation, "staff.create")[-1:]
    assert created.actor_id == installation.staff["admin"]
    with httpx.Client(base_url=server.url) as newcomer:  # the password works once handed over
        step = newcomer.post(
            "/login",
            data={
                "csrf_token": csrf(newcomer.get("/login")),
                "email": "new.reviewer@uni.example",
                "password": password,
            },
        )
        assert step.headers["location"] == "/login/enrol"
    assert (
        admin.post(
            "/admin/staff", {"email": "new.reviewer@uni.example", "name": "Again", "role": "reviewer"}
        ).status_code
        == 409
    )

    make_exam(installation, n=1)  # the reviewer is assigned: a new role removes them from it
    reviewer = installation.staff["reviewer"]
    r = admin.post(f"/admin/staff/{reviewer}/role", {"role": "examiner"})
    assert r.status_code == 200
    assert "removed from 1 exam" in r.text
    [changed] = entries(installation, "staff.role")
    assert (changed.actor_id, changed.detail["previous"], changed.detail["role"]) == (
        installation.staff["admin"],
        "reviewer",
        "examiner",
    )
    assert entries(installation, "key.revoke")[-1].detail["revoked"] == reviewer
    r = admin.post(f"/admin/staff/{installation.staff['invigilator']}/deactivate")
    assert r.status_code == 200
    assert entries(installation, "staff.deactivate")[0].detail["staff"] == installation.staff["invigilator"]
    assert admin.post(f"/admin/staff/{installation.staff['admin']}/deactivate").status_code == 409
    assert (
        tabs["coordinator"]
        .post("/admin/staff", {"email": "c@uni.example", "name": "C", "role": "admin"})
        .status_code
        == 403
    )


def test_institution_settings(server, installation, tabs):
    admin = tabs["admin"]
    form = {
        f"retention.{k}": "30"
        for k in (
            "webcam",
            "screen",
            "audio",
            "process_and_browser_logs",
            "biometric",
            "handins",
            "flags_and_decisions",
            "access_and_audit_logs",
            "identity",
        )
    }
    r = admin.post("/admin/institution", {**form, "name": "Example University", "retention.webcam": "0"})
    assert r.status_code == 422
    assert "webcam: must be 1 to 3650 days" in r.text
    r = admin.post("/admin/institution", {**form, "name": "Example University", "retention.webcam": "14"})
    assert r.status_code == 200
    assert "were saved" in r.text
    [saved] = entries(installation, "institution.settings")
    assert saved.actor_id == installation.staff["admin"]
    assert saved.detail["default_retention"]["webcam"] == 14
    r = admin.post(
        "/admin/institution/privacy",
        {
            "controller": "Example University",
            "dpo_contact": "dpo@uni.example",
            "legal_basis": "GDPR Art. 6(1)(e)",
            "complaint_authority": "Datatilsynet",
        },
    )
    assert r.status_code == 200
    assert entries(installation, "institution.privacy")[0].detail["dpo_contact"] == "dpo@uni.example"
    with installation.container.uow() as db:
        inst = db.get(Institution, installation.institution_id)
        assert inst is not None
        assert inst.name == "Example University"
        assert inst.dpo_contact == "dpo@uni.example"
    assert 'name="retention.webcam" type="number" inputmode="numeric" min="1" max="3650" value="14"' in (
        tabs["coordinator"].http.get("/admin/exams/new").text
    )


def test_assign_and_remove_staff_and_pending_key_grants(server, installation, tabs):
    exam = make_exam(installation, n=1)
    second = add_staff(installation, Role.REVIEWER, "rev2@uni.example")
    give_key(installation, "reviewer", second)
    with installation.container.uow() as db:  # a candidate activated: a new holder needs a grant
        session = db.get(ExamSession, exam.session_ids[0])
        assert session is not None
        session.code_used_at = session.activated_at = utcnow()
    coordinator = tabs["coordinator"]
    r = coordinator.post(f"/admin/exams/{exam.exam_id}/access", {"staff_id": second})
    assert r.status_code == 200
    assert "rev2@uni.example is now a reviewer" in r.text
    assert entries(installation, "exam.assign")[-1].actor_id == installation.staff["coordinator"]
    assert f"invigil keys grant --exam {exam.exam_id}" in r.text
    r = coordinator.post(f"/admin/exams/{exam.exam_id}/access/{second}/revoke")
    assert r.status_code == 200
    assert "no longer has access" in r.text
    assert entries(installation, "key.revoke")[-1].detail["revoked"] == second
    r = coordinator.post(f"/admin/exams/{exam.exam_id}/access", {"staff_id": installation.staff["examiner"]})
    assert r.status_code == 422


def test_legal_holds_and_privacy_documents(server, installation, tabs):
    exam = make_exam(installation, n=1)
    coordinator = tabs["coordinator"]
    path = f"/admin/exams/{exam.exam_id}"
    r = coordinator.post(f"{path}/holds", {"reason": "short"})
    assert r.status_code == 422
    assert "at least 10 characters" in r.text
    r = coordinator.post(
        f"{path}/holds", {"reason": "Complaint 2031-17 about this exam", "session_id": exam.session_ids[0]}
    )
    assert r.status_code == 200
    assert "Complaint 2031-17" in r.text
    assert exam.pseudonyms[0] in r.text
    [placed] = entries(installation, "retention.hold")
    assert placed.actor_id == installation.staff["coordinator"]
    hold_id = re.search(rf"{path}/holds/(\w+)/release", r.text).group(1)  # type: ignore[union-attr]
    assert coordinator.post(f"{path}/holds/{hold_id}/release").status_code == 200
    assert entries(installation, "retention.release")[0].detail["hold"] == hold_id
    assert coordinator.post(f"{path}/holds/{hold_id}/release").status_code == 409

    notice = coordinator.http.get(f"{path}/notice?lang=da")
    assert notice.status_code == 200
    assert 'lang="da"' in notice.text
    assert "Test exam" in notice.text
    dpia = coordinator.http.get(f"/api/v1/staff/exams/{exam.exam_id}/dpia?format=pdf")
    assert dpia.status_code == 200
    assert dpia.content.startswith(b"%PDF")
    cert = coordinator.http.get(f"/api/v1/staff/exams/{exam.exam_id}/deletion-certificate?format=markdown")
    assert cert.status_code == 200
    assert tabs["examiner"].http.get(f"/api/v1/staff/exams/{exam.exam_id}/dpia").status_code == 403


def test_secret_forms_cannot_be_sent_before_their_script_listens(server, installation, tabs):
    """These forms have no action: sent by the browser itself (Enter pressed before the page's script
    had loaded), the key passphrase or the exam PIN would travel in the address, to the server and its
    logs. Their submit button starts disabled (which also stops Enter) and the script enables it."""
    exam = make_exam(installation, n=1, start_offset=60)  # not started: its assignment can be sealed
    running = make_exam(installation, n=1)  # its board is open
    give_key(installation, "reviewer")
    give_key(installation, "invigilator")
    pages = {
        ("coordinator", f"/admin/exams/{exam.exam_id}/assignment"): "seal-form",
        ("reviewer", "/unlock"): "unlock-form",
        ("invigilator", f"/exams/{running.exam_id}/board"): "unlock-form",  # the panel (_unlock_panel.html)
    }
    for (role, path), form_id in pages.items():
        page = tabs[role].http.get(path)
        assert page.status_code == 200, (path, page.status_code)
        form = re.search(rf'<form id="{form_id}".*?</form>', page.text, re.S)
        assert form, (path, form_id)
        assert re.search(r'<button type="submit"[^>]* disabled[ >]', form.group(0)), (path, form.group(0))
