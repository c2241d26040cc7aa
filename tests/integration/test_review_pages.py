"""The reviewer workspace page over HTTP with the browser's login cookie: who may open it, the case
file (what it holds, what it never holds, its access-log entry), and the page's writes (a decision,
an erasure with a reason) through the API it calls. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import zipfile
from contextlib import closing

import httpx
import pytest
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from invigil.evidence.models import EvidenceItem
from invigil.review.models import Decision
from tests.factories import PASSWORD, credentials, login, make_exam
from tests.integration.reviewkit import Reviewable, reviewable_exam

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off", "run_jobs_in_process": False})


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def world(http, installation, tmp_path) -> Reviewable:
    return reviewable_exam(http, installation, tmp_path)


def _csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:300]
    return match.group(1)


def browser_login(url: str, role: str) -> tuple[httpx.Client, str]:
    """A client holding a complete login cookie, as a browser would, and the page's CSRF token."""
    email = f"{role}@uni.example"
    client = httpx.Client(base_url=url, timeout=30)
    token = _csrf(client.get("/login"))
    r = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text
    token = _csrf(client.get("/login/code"))
    code = credentials(url, email)["totp"]
    r = client.post("/login/code", data={"csrf_token": token, "code": code})
    assert r.status_code == 303, r.text
    return client, _csrf(client.get("/home"))


def logged(c, action: str, **where: str) -> int:
    with c.uow() as db:
        q = select(AccessLogEntry).where(AccessLogEntry.action == action)
        for k, v in where.items():
            q = q.where(getattr(AccessLogEntry, k) == v)
        return len(db.scalars(q).all())


# role -> the page's answer (docs/access.md): whoever may read the exam's evidence.
PAGE = {"reviewer": 200, "invigilator": 200, "admin": 403, "coordinator": 403, "examiner": 403}


@pytest.mark.parametrize("role", list(PAGE))
def test_who_may_open_the_workspace(server, world, role):
    client, _ = browser_login(server.url, role)
    with closing(client):
        r = client.get(f"/exams/{world.exam_id}/review")
        assert r.status_code == PAGE[role], r.text[:300]
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        # The page is a shell: candidate data arrives from the API, never in the HTML.
        assert not any(p in r.text for p in world.pseudonyms.values())
        if role == "reviewer":
            assert 'src="/static/review.js"' in r.text
            assert "Invigil never decides" in r.text
            assert 'id="decision-form"' in r.text
            assert all(f'value="{o}"' in r.text for o in ("no_action", "follow_up", "report"))
            home = client.get("/home")
            assert f'href="/exams/{world.exam_id}/review"' in home.text
        elif role == "invigilator":
            assert 'id="decision-form"' not in r.text  # read only: deciding is the reviewers'
            assert 'id="case-file"' not in r.text
        else:
            assert "Not a review you can open" in r.text
            # Its "Log out" works: the refusal page carries this login's CSRF token too.
            out = client.post("/logout", data={"csrf_token": _csrf(r)})
            assert out.status_code == 303, out.text[:300]
            assert client.get("/home").status_code != 200


def test_anonymous_goes_to_login_and_no_exam_ids_can_be_probed(http, server, installation, world):
    r = http.get(f"/exams/{world.exam_id}/review")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    client, _ = browser_login(server.url, "reviewer")
    with closing(client):
        assert client.get("/exams/no-such-exam/review").status_code == 403


def test_an_invigilator_of_another_exam_and_a_revoked_reviewer_are_refused(server, installation, world):
    other = make_exam(installation, n=1, assign=False)
    past = make_exam(installation, n=1, start_offset=-600, minutes=60)  # ended 9 hours ago
    invigilator, _ = browser_login(server.url, "invigilator")
    with closing(invigilator):
        assert invigilator.get(f"/exams/{other.exam_id}/review").status_code == 403
        assert invigilator.get(f"/exams/{past.exam_id}/review").status_code == 403  # after the window
    reviewer, _ = browser_login(server.url, "reviewer")
    with closing(reviewer):
        assert reviewer.get(f"/exams/{world.exam_id}/review").status_code == 200
        assert reviewer.get(f"/exams/{past.exam_id}/review").status_code == 200  # reviewers: after it too
        coordinator = login(server.url, "coordinator")
        revoked = httpx.delete(
            f"{server.url}/api/v1/staff/exams/{world.exam_id}/access/{installation.staff['reviewer']}",
            headers=coordinator,
        )
        assert revoked.status_code in (200, 204), revoked.text
        r = reviewer.get(f"/exams/{world.exam_id}/review")
        assert r.status_code == 403
        assert "your access has ended" in r.text
        # ...and the API the page calls says the same.
        assert reviewer.get(f"/api/v1/staff/exams/{world.exam_id}/cohort").status_code == 403


def test_every_read_the_workspace_makes_is_in_the_access_log(server, installation, world):
    """What review.js fetches for the overview, one candidate and one item: each read is logged."""
    c, exam, sid = installation.container, world.exam_id, world.flagged.session_id
    client, _ = browser_login(server.url, "reviewer")
    with closing(client):
        cohort = client.get(f"/api/v1/staff/exams/{exam}/cohort").json()
        assert {r["candidate"] for r in cohort["candidates"]} == set(world.pseudonyms.values())
        assert client.get(f"/api/v1/staff/exams/{exam}/flags").status_code == 200
        assert client.get(f"/api/v1/staff/sessions/{sid}/timeline").status_code == 200
        assert client.get(f"/api/v1/staff/sessions/{sid}/flags").status_code == 200
        listing = client.get(f"/api/v1/staff/sessions/{sid}/evidence").json()
        shot = next(i for i in listing["items"] if i["kind"] == "screenshot")
        assert client.get(f"/api/v1/staff/evidence/{shot['id']}").status_code == 200
        assert client.get(f"/api/v1/staff/exams/{exam}/keys").status_code == 200
    me = installation.staff["reviewer"]
    for action in ("cohort.read", "flags.list", "key.fetch"):
        assert logged(c, action, actor_id=me, exam_id=exam) == 1, action
    for action in ("timeline.read", "flags.read", "evidence.list"):
        assert logged(c, action, actor_id=me, session_id=sid) == 1, action
    assert logged(c, "evidence.read", actor_id=me, item_id=shot["id"]) == 1


def test_the_case_file_holds_the_case_and_only_ciphertext(server, installation, world):
    c, sid = installation.container, world.flagged.session_id
    client, token = browser_login(server.url, "reviewer")
    with closing(client):
        note = client.post(
            f"/api/v1/staff/exams/{world.exam_id}/notes",
            json={"text": "Candidate said the Discord window was a notification.", "session_id": sid},
            headers={"X-CSRF-Token": token},
        )
        assert note.status_code == 201, note.text
        d = client.post(
            f"/api/v1/staff/sessions/{sid}/decisions",
            json={"outcome": "follow_up", "reason": "Ask the candidate about Discord at 12 minutes."},
            headers={"X-CSRF-Token": token},
        )
        assert d.status_code == 201, d.text
        webcam = _item(c, world.items["webcam_frame"])
        erased = client.post(
            f"/api/v1/staff/evidence/{webcam.id}/erase",
            json={"reason": "A family member is visible behind the candidate."},
            headers={"X-CSRF-Token": token},
        )
        assert erased.status_code == 200, erased.text
        r = client.get(f"/api/v1/staff/sessions/{sid}/case-file")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert re.search(r'attachment; filename="case-.+\.zip"', r.headers["content-disposition"])
    z = zipfile.ZipFile(io.BytesIO(r.content))
    case = json.loads(z.read("case.json"))
    assert case["candidate"] == world.pseudonyms["flagged"]
    assert case["exam"]["id"] == world.exam_id
    assert "never decides" in case["note"]
    assert {f["behaviour"] for f in case["flags"]} >= {"process.forbidden", "browser.outside_allowed"}
    red = next(f for f in case["flags"] if f["behaviour"] == "process.forbidden")
    assert red["severity"] == "red"
    assert red["evidence"] == [world.items["process_snapshot"]]  # the flag names the item it rests on
    assert [d["outcome"] for d in case["decisions"]] == ["follow_up"]
    assert case["notes"][0]["text"].startswith("Candidate said")
    kinds = {e["kind"] for e in case["timeline"]}
    assert {"activated", "handed_in", "offline", "flag", "evidence", "note", "decision"} <= kinds
    by_kind = {e["kind"]: e for e in case["evidence"]}
    assert by_kind["webcam_frame"]["status"] == "erased"
    assert "family member" in by_kind["webcam_frame"]["erased"]["reason"]
    assert "file" not in by_kind["webcam_frame"]
    # Stored items are in the ZIP exactly as stored: sealed bytes, never plaintext.
    for kind in ("screenshot", "process_snapshot", "browser_history"):
        entry = by_kind[kind]
        item = _item(c, entry["client_id"])
        assert z.read(entry["file"]) == c.store.get(item.blob_key)
    everything = b"".join(z.read(n) for n in z.namelist())
    for plaintext in (b"Discord.exe", b"chatgpt.com", b"\x89PNG"):
        assert plaintext not in everything
    md = z.read("case.md").decode()
    assert "Invigil never decides" in md
    assert "| red | process.forbidden |" in md
    assert "A family member is visible" in md
    assert logged(c, "casefile.export", actor_id=installation.staff["reviewer"], session_id=sid) == 1
    # Invigilators read the timeline, but the case file is for the exam's reviewers.
    invigilator, _ = browser_login(server.url, "invigilator")
    with closing(invigilator):
        assert invigilator.get(f"/api/v1/staff/sessions/{sid}/case-file").status_code == 403
    assert logged(c, "casefile.export") == 1


def _item(c, client_id: str) -> EvidenceItem:
    with c.uow() as db:
        row = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == client_id))
        assert row is not None
        db.expunge(row)
        return row


def test_erasure_needs_a_real_reason_and_the_page_token(server, installation, world):
    c = installation.container
    shot = _item(c, world.items["screenshot"])
    url = f"/api/v1/staff/evidence/{shot.id}/erase"
    client, token = browser_login(server.url, "reviewer")
    with closing(client):
        forged = client.post(url, json={"reason": "A doctor's letter on the screen."})
        assert forged.status_code == 403  # no CSRF header: what a cross-site form would send
        short = client.post(url, json={"reason": "private"}, headers={"X-CSRF-Token": token})
        assert short.status_code == 422
        assert "at least 10 characters" in short.json()["message"]
        assert _item(c, shot.client_id).status == "stored"
        assert logged(c, "evidence.erase") == 0
        ok = client.post(
            url,
            json={"reason": "A doctor's letter is readable on the screen."},
            headers={"X-CSRF-Token": token},
        )
        assert ok.status_code == 200, ok.text
    assert _item(c, shot.client_id).status == "erased"
    assert c.store.size(shot.blob_key) is None
    assert logged(c, "evidence.erase", item_id=shot.id) == 1


def test_a_decision_is_recorded_with_its_reason(server, installation, world):
    c, sid = installation.container, world.flagged.session_id
    client, token = browser_login(server.url, "reviewer")
    with closing(client):
        url = f"/api/v1/staff/sessions/{sid}/decisions"
        assert (
            client.post(
                url, json={"outcome": "report", "reason": "Discord"}, headers={"X-CSRF-Token": token}
            ).status_code
            == 422
        )
        r = client.post(
            url,
            json={"outcome": "report", "reason": "Discord was open while the exam ran, twice."},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201, r.text
        timeline = client.get(f"/api/v1/staff/sessions/{sid}/timeline").json()
    assert timeline["decision"]["outcome"] == "report"
    with c.uow() as db:
        (d,) = db.scalars(select(Decision).where(Decision.session_id == sid)).all()
        assert (d.staff_id, d.reason) == (
            installation.staff["reviewer"],
            "Discord was open while the exam ran, twice.",
        )
    assert logged(c, "decision.record", session_id=sid) == 1
