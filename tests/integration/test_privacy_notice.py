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


def test_nothing_starts_before_the_notice_is_accepted(http, server, installation):
    import asyncio

    from sqlalchemy import select

    from invigil.agent.client import AgentClient, NoticeDeclined
    from invigil.protocol import v1
    from invigil.sessions.models import ExamSession
    from tests.integration.agentkit import activation_body, new_candidate_key

    exam = make_exam(installation, n=3)
    body = activation_body(exam.codes[0], "s" * 43, new_candidate_key())
    first = http.post(f"{v1.PREFIX}/activate", json=body)
    assert first.status_code == 409
    asked = first.json()
    assert asked["error"] == "notice"
    assert asked["notice_url"] == f"/api/v1/exams/{exam.exam_id}/privacy-notice"
    shown = http.get(asked["notice_url"], headers={"Accept-Language": "sv"}).json()
    assert shown["version"] == asked["notice_version"]
    assert http.post(f"{v1.PREFIX}/activate", json={**body, "notice_version": "0" * 16}).status_code == 409
    ok = http.post(f"{v1.PREFIX}/activate", json={**body, "notice_version": shown["version"]})
    assert ok.status_code == 200, ok.text  # the code was not used up by the first two attempts
    with installation.container.uow() as db:
        session = db.scalar(select(ExamSession).where(ExamSession.id == ok.json()["session_id"]))
        assert session.notice_version == shown["version"]
        assert session.notice_accepted_at is not None

    # The controller's details change: a version read before no longer counts.
    settings = {"controller": "Renamed University", "dpo_contact": "dpo@uni.example"}
    assert (
        http.put(
            "/api/v1/staff/institution/privacy", headers=login(server.url, "admin"), json=settings
        ).status_code
        == 200
    )
    stale = activation_body(exam.codes[1], "t" * 43, new_candidate_key())
    assert (
        http.post(f"{v1.PREFIX}/activate", json={**stale, "notice_version": shown["version"]}).status_code
        == 409
    )

    async def agent(code: str, accept: bool) -> str:
        client = AgentClient(server.url, language="de")
        seen: list[dict] = []

        def read(notice: dict) -> bool:
            seen.append(notice)
            return accept

        try:
            public = activation_body(code, "u" * 43, new_candidate_key())["candidate_public_key"]
            act = await client.activate(code, "u" * 43 if accept else "v" * 43, {}, public, read_notice=read)
            assert seen[0]["language"] == "de"
            return act.session_id
        finally:
            await client.aclose()

    with pytest.raises(NoticeDeclined):
        asyncio.run(agent(exam.codes[1], accept=False))
    assert asyncio.run(agent(exam.codes[2], accept=True))
