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
