"""The privacy notice over HTTP: public, in the asked-for language, versioned; the institution's
privacy settings, for admins only. SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import login, make_exam


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def test_notice_is_public_localised_and_follows_the_settings(http, server, installation):
    exam = make_exam(installation, n=1)
    url = f"/api/v1/exams/{exam.exam_id}/privacy-notice"
    en = http.get(url).json()
    assert en["language"] == "en"
    assert en["title"] == "Privacy notice: Test exam"
    de = http.get(url, headers={"Accept-Language": "de-AT,de;q=0.9"}).json()
    assert de["language"] == "de"
    assert de["version"] == en["version"]
    sv = http.get(url, params={"lang": "sv", "format": "markdown"})
    assert sv.headers["content-type"].startswith("text/markdown")
    assert sv.text.startswith("# Information om behandling av personuppgifter")
    assert "(ännu inte angivet av lärosätet" in sv.text  # the admin has not stated the legal basis yet
    assert http.get("/api/v1/exams/nope/privacy-notice").status_code == 404

    settings = {
        "controller": "Test University",
        "dpo_contact": "dpo@uni.example",
        "legal_basis": "GDPR Art. 6(1)(e); the university act § 12",
        "complaint_authority": "Datatilsynet, dt@datatilsynet.dk",
    }
    for role in ("coordinator", "reviewer", "examiner"):
        h = login(server.url, role)
        assert http.put("/api/v1/staff/institution/privacy", headers=h, json=settings).status_code == 403
    admin = login(server.url, "admin")
    assert (
        http.put("/api/v1/staff/institution/privacy", headers=admin, json={**settings, "x": 1}).status_code
        == 422
    )
    assert http.put("/api/v1/staff/institution/privacy", headers=admin, json=settings).status_code == 200
    assert http.get("/api/v1/staff/institution/privacy", headers=admin).json() == settings
    after = http.get(url, params={"lang": "da"}).json()
    assert after["version"] != en["version"]  # what the candidate acknowledges changed
    text = " ".join(p for s in after["sections"] for p in s["paragraphs"])
    assert "Test University er dataansvarlig" in text
    assert "the university act § 12" in text


def test_dpia_draft_for_those_who_manage_the_exam(http, server, installation):
    import zlib

    exam = make_exam(installation, n=1)
    url = f"/api/v1/staff/exams/{exam.exam_id}/dpia"
    for role in ("reviewer", "invigilator", "examiner"):
        assert http.get(url, headers=login(server.url, role)).status_code == 403
    h = login(server.url, "coordinator")
    md = http.get(url, headers=h)
    assert md.status_code == 200
    text = md.text
    assert text.startswith("# Data protection impact assessment (draft): Test exam")
    for part in ("Art. 35(7)(a)", "Art. 35(7)(b)", "Art. 35(7)(c)", "Unauthorised access", "*Answer:*"):
        assert part in text
    assert "| screenshots |" in text  # the test policy's sources, each with its privacy cost
    doc = http.get(url, headers=h, params={"format": "json"}).json()
    assert {r["risk"].split(" ")[0] for r in doc["risks"]} >= {"Unauthorised", "Loss", "Modification"}
    pdf = http.get(url, headers=h, params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    streams = [
        zlib.decompress(part.split(b"stream\n", 1)[1]) for part in pdf.content.split(b"endstream")[:-1]
    ]
    assert any(b"Data protection impact assessment" in s for s in streams)


def test_cli_writes_the_dpia_as_pdf_and_prints_the_notice(installation, tmp_path):
    import os
    import subprocess
    import sys

    exam = make_exam(installation, n=1)
    c = installation.container
    env = {
        **os.environ,
        "INVIGIL_DATA_DIR": str(c.settings.data_dir),
        "INVIGIL_DATABASE_URL": c.settings.effective_database_url,
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "invigil.cli.main", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)

    out = tmp_path / "dpia.pdf"
    r = cli("dpia", "--exam", exam.exam_id, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    r = cli("privacy-notice", "--exam", exam.exam_id, "--lang", "da")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Oplysning om behandling af personoplysninger: Test exam")
    assert cli("dpia", "--exam", "nope").returncode != 0
