"""The candidate's right of access (GDPR Art. 15): from the receipt link, a report of everything held
(flags, decisions, who opened the data) and a ZIP they open with their receipt secret, in Python and
offline in a browser page. Another student's link or secret opens nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile

import httpx
import pytest

from invigil.kit.candidate_secret import secret_from_private
from invigil.portal.subject_export import open_export
from invigil.review import service as review
from invigil.sessions.models import ExamSession
from tests.factories import login, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def handed_in(http, server, installation):
    exam = make_exam(installation, n=2)
    agent, other = activate(http, exam.codes[0]), activate(http, exam.codes[1])
    shot = agent.upload("screenshot", b"\x89PNG my screen")
    procs = agent.upload("process_snapshot", b'{"processes": [{"name": "discord"}]}')
    handin = agent.upload("handin_file", b"my answers")
    assert agent.handin([handin], portal="p" * 40).status_code == 200
    assert other.handin([other.upload("handin_file", b"theirs")], portal="o" * 40).status_code == 200
    # A reviewer looks, and records a decision: both must show in the report.
    h = login(server.url, "reviewer")
    assert http.get(f"/api/v1/staff/sessions/{agent.session_id}/evidence", headers=h).status_code == 200
    c = installation.container
    with c.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        review.decide(
            db,
            session,
            installation.staff["reviewer"],
            "no_action",
            "Discord was closed, not used.",
            session.activated_at,
        )
    return {"agent": agent, "other": other, "items": {shot, procs, handin}}


def test_report_shows_what_was_collected_flags_decisions_and_who_looked(http, handed_in):
    doc = http.get(f"/api/v1/portal/{'p' * 40}").json()
    assert {i["client_id"] for i in doc["items"]} == handed_in["items"]
    assert doc["session"]["handed_in_at"] is not None
    assert [d["outcome"] for d in doc["decisions"]] == ["no_action"]
    who = {a["who"].split(" ")[0] for a in doc["accessed"]}
    assert "reviewer" in who
    assert not any("@" in a["who"] for a in doc["accessed"])  # a role and a reference, never a name
    assert doc["privacy_notice"]["version"]


def test_export_zip_opens_with_the_receipt_secret_only(http, handed_in, tmp_path):
    r = http.get(f"/api/v1/portal/{'p' * 40}/export.zip")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/zip"
    path = tmp_path / "mine.zip"
    path.write_bytes(r.content)
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        assert {"README.txt", "report.json", "open.html"} <= names
        assert len([n for n in names if n.startswith("sealed/")]) == 3
        assert b"my screen" not in b"".join(z.read(n) for n in names if n.startswith("sealed/"))
        page = z.read("open.html").decode()
        assert "\nexport " not in page  # the crypto module is inlined as a script: file:// loads no modules
        assert "async function openEnvelope" in page
    secret = secret_from_private(handed_in["agent"].candidate)
    written = open_export(path, secret, tmp_path / "opened")
    assert sorted(p.read_bytes() for p in written) == sorted(
        [b"\x89PNG my screen", b'{"processes": [{"name": "discord"}]}', b"my answers"]
    )
    with pytest.raises(ValueError, match="another receipt"):
        open_export(path, secret_from_private(handed_in["other"].candidate), tmp_path / "nope")
    # The export itself is in the access log, and so in the next report.
    again = http.get(f"/api/v1/portal/{'p' * 40}").json()
    assert "portal.export" in {a["action"] for a in again["accessed"]}


def test_cli_opens_the_export(http, handed_in, tmp_path):
    path = tmp_path / "mine.zip"
    path.write_bytes(http.get(f"/api/v1/portal/{'p' * 40}/export.zip").content)
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret_from_private(handed_in["agent"].candidate))
    cmd = [
        sys.executable,
        "-m",
        "invigil.cli.main",
        "portal",
        "open-export",
        str(path),
        "--out",
        str(tmp_path / "o"),
        "--secret-file",
        str(secret_file),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ})
    assert r.returncode == 0, r.stderr
    assert "Opened 3 item(s)" in r.stdout
    assert json.loads((tmp_path / "o" / "report.json").read_text())["candidate"]
    secret_file.write_text("AAAA-BBBB")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ})
    assert r.returncode != 0
    assert "receipt secret" in r.stderr


def test_other_links_open_nothing(http, handed_in):
    assert http.get(f"/api/v1/portal/{'q' * 40}/export.zip").status_code == 404
    assert http.get(f"/api/v1/portal/{'q' * 200}/export.zip").status_code == 404
    theirs = http.get(f"/api/v1/portal/{'o' * 40}").json()
    assert not ({i["client_id"] for i in theirs["items"]} & handed_in["items"])
