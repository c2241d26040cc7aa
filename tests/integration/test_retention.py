"""Retention with legal holds: what a hold keeps, what goes around it, what goes once it is released,
and the signed deletion certificate that tells the story. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from invigil.audit import chain
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import CandidateIdentity, Exam
from invigil.retention import certificate, engine
from invigil.review import service as review
from invigil.review.models import Decision
from invigil.sessions.models import ExamSession
from tests.factories import login, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def world(http, installation):
    exam = make_exam(installation, n=3)
    c, reviewer = installation.container, installation.staff["reviewer"]
    agents = [activate(http, code) for code in exam.codes[:2]]
    items = [agent.upload("screenshot", f"\x89PNG screen of {i}".encode()) for i, agent in enumerate(agents)]
    with c.uow() as db:
        for agent in agents:
            session = db.get(ExamSession, agent.session_id)
            review.decide(
                db,
                session,
                reviewer,
                "no_action",
                "Nothing in the recording needs a look.",
                session.activated_at,
            )
            review.add_note(
                db,
                exam.exam_id,
                agent.session_id,
                reviewer,
                "Asked about the calculator.",
                session.activated_at,
            )
        ends_at = db.get(Exam, exam.exam_id).ends_at
    return {"exam": exam, "agents": agents, "items": items, "later": ends_at + timedelta(days=4000)}


def counts(c, exam_id: str, session_id: str) -> dict[str, int]:
    with c.uow() as db:
        session = db.get(ExamSession, session_id)
        return {
            "stored": db.scalar(
                select(func.count())
                .select_from(EvidenceItem)
                .where(EvidenceItem.session_id == session_id, EvidenceItem.status == "stored")
            ),
            "decisions": db.scalar(
                select(func.count()).select_from(Decision).where(Decision.session_id == session_id)
            ),
            "names": db.scalar(
                select(func.count())
                .select_from(CandidateIdentity)
                .where(CandidateIdentity.candidate_id == session.candidate_id)
            ),
        }


def cert(c, exam_id: str, now) -> dict:
    with c.uow() as db:
        return certificate.build(db, db.get(Exam, exam_id), c.signer, now)


def test_a_hold_keeps_one_candidate_while_the_rest_is_destroyed_then_goes_too(
    http, server, installation, world
):
    c, exam, later = installation.container, world["exam"], world["later"]
    held, free = world["agents"][0].session_id, world["agents"][1].session_id
    h = login(server.url, "reviewer")
    r = http.post(
        f"/api/v1/staff/exams/{exam.exam_id}/holds",
        headers=h,
        json={"session_id": held, "reason": "Complaint 2026-117 about this exam is open."},
    )
    assert r.status_code == 201, r.text
    hold_id = r.json()["id"]

    assert engine.run(c, later)  # something was destroyed
    assert counts(c, exam.exam_id, held) == {"stored": 1, "decisions": 1, "names": 1}
    assert counts(c, exam.exam_id, free) == {"stored": 0, "decisions": 0, "names": 0}
    during = cert(c, exam.exam_id, later)
    assert certificate.verify(during)
    assert during["body"]["categories"]["screen"]["status"].startswith("held")
    assert during["body"]["categories"]["screen"]["remaining"] == {"live_keys": 1, "evidence_items": 1}
    assert engine.run(c, later) == []  # nothing more while the hold stands: and no noise in the log

    assert http.post(f"/api/v1/staff/holds/{hold_id}/release", headers=h).status_code == 200
    assert http.post(f"/api/v1/staff/holds/{hold_id}/release", headers=h).status_code == 409
    engine.run(c, later)
    assert counts(c, exam.exam_id, held) == {"stored": 0, "decisions": 0, "names": 0}
    after = cert(c, exam.exam_id, later)
    body = after["body"]
    assert body["categories"]["screen"]["status"] == "destroyed"
    assert [e["action"] for e in body["categories"]["screen"]["destroyed"]] == [
        "retention.delete_ciphertext",
        "retention.shred_keys",
        "retention.delete_ciphertext",
    ]
    assert body["categories"]["flags_and_decisions"]["status"] == "destroyed"
    assert body["categories"]["identity"]["status"] == "destroyed"
    # No signed checkpoint yet in this installation: the log waits for one (test_audit_prune.py).
    assert body["categories"]["access_and_audit_logs"]["status"].startswith("due: pruned")
    assert [h["released_at"] is not None for h in body["holds"]] == [True]
    assert "Person" not in json.dumps(after)  # counts and times only: no names in a certificate
    # The certificate is signed: change one word and it no longer verifies.
    forged = json.loads(json.dumps(after))
    forged["body"]["categories"]["screen"]["status"] = "not yet due"
    assert not certificate.verify(forged)
    # All of it is in the access log, whose chain is intact.
    with c.uow() as db:
        assert chain.verify(db, c.settings.data_dir).intact


def test_a_hold_on_the_whole_exam_stops_everything(installation, world):
    c, exam = installation.container, world["exam"]
    with c.uow() as db:
        from invigil.retention import holds

        holds.place(
            db,
            exam.exam_id,
            None,
            installation.staff["coordinator"],
            "Appeal by the student council.",
            world["later"],
        )
    assert engine.run(c, world["later"]) == []
    for agent in world["agents"]:
        assert counts(c, exam.exam_id, agent.session_id)["stored"] == 1


def test_who_may_hold_and_read_certificates(http, server, installation, world):
    exam = world["exam"].exam_id
    other = make_exam(installation, n=1, assign=False).exam_id
    body = {"reason": "Complaint 2026-118 is open."}
    for role, expected in (
        ("reviewer", 201),
        ("coordinator", 201),
        ("admin", 201),
        ("invigilator", 403),
        ("examiner", 403),
    ):
        h = login(server.url, role)
        assert http.post(f"/api/v1/staff/exams/{exam}/holds", headers=h, json=body).status_code == expected, (
            role
        )
        got = http.get(f"/api/v1/staff/exams/{exam}/deletion-certificate", headers=h).status_code
        assert got == (200 if expected == 201 else 403), role
    h = login(server.url, "reviewer")
    assert http.post(f"/api/v1/staff/exams/{other}/holds", headers=h, json=body).status_code == 403
    assert (
        http.post(f"/api/v1/staff/exams/{exam}/holds", headers=h, json={"reason": "because"}).status_code
        == 422
    )
    wrong = {**body, "session_id": world["agents"][0].session_id}
    assert (
        http.post(
            f"/api/v1/staff/exams/{other}/holds", headers=login(server.url, "admin"), json=wrong
        ).status_code
        == 422
    )
    md = http.get(f"/api/v1/staff/exams/{exam}/deletion-certificate?format=markdown", headers=h)
    assert md.status_code == 200
    assert md.text.startswith("# Deletion certificate")
    assert "| screen | 180 days |" in md.text


def test_cli_prints_the_certificate(installation, world):
    c = installation.container
    env = {
        **os.environ,
        "INVIGIL_DATA_DIR": str(c.settings.data_dir),
        "INVIGIL_DATABASE_URL": c.settings.effective_database_url,
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "invigil.cli.main",
            "retention",
            "certificate",
            "--exam",
            world["exam"].exam_id,
            "--markdown",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "not yet due" in run.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "invigil.cli.main", "retention", "certificate", "--exam", "nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode != 0
    assert "No exam nope" in missing.stderr
