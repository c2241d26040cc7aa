"""Passing an exam's keys on in real Chromium (ADR 0006 §5): a reviewer who holds the keys logs in
with TOTP, opens the exam's staff access, unlocks their key once in the page and gives access to a
reviewer assigned after candidates activated. The new reviewer's own key then opens the evidence,
checked in Python (as their CLI would) and in a browser of their own (the review workspace). The
passphrase and the raw keys never leave the page; no console error, no CSP violation."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from invigil.accounts.models import Role, Staff
from invigil.evidence.models import EvidenceItem
from invigil.exams import keys
from invigil.exams import service as exams
from invigil.exams.models import Exam
from invigil.kit import envelope
from invigil.kit.clock import utcnow
from invigil.kit.keywrap import private_raw
from tests.browser.conftest import staff_tab
from tests.browser.test_login_pages import code_for, log_in
from tests.factories import KEY_PASSPHRASE, add_staff, give_key, make_exam, totp_secret
from tests.integration.agentkit import activate

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels for the late reviewer " * 20
PROCESSES = b'{"processes": [{"name": "Discord.exe", "pid": 4242}]}'
EMAIL = "reviewer@uni.example"
SLOW = 30_000


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1280, 900) as page:
        yield page


def _forms(raw: bytes) -> list[str]:
    """How a raw key could appear in a request body."""
    b64 = base64.b64encode(raw).decode()
    return [b64, b64.rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("="), raw.hex()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_key_holder_gives_access_in_the_browser(tab, browser, server, installation, database_url):
    holder = give_key(installation, "reviewer")  # before the exam: holds its keys at once
    exam = make_exam(installation, n=1)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        agent = activate(http, exam.codes[0])  # keys in use: a newcomer now waits for a grant
        shot = agent.upload("screenshot", PNG)
        agent.upload("process_snapshot", PROCESSES)
    late_id = add_staff(installation, Role.REVIEWER, "late@uni.example")
    late = give_key(installation, "", staff_id=late_id)
    with installation.container.uow() as db:
        row, person = db.get(Exam, exam.exam_id), db.get(Staff, late_id)
        assert row is not None
        assert person is not None
        exams.assign(db, row, person, Role.REVIEWER)
        assert [r.staff_id for r in keys.pending_grants(db, row, utcnow())] == [late_id]
        with pytest.raises(Exception, match="holds no copy"):
            keys.open_exam_keys(db, exam.exam_id, late)
        exam_keys = keys.open_exam_keys(db, exam.exam_id, installation.recovery_key())

    log_in(tab, EMAIL, code_for(totp_secret(EMAIL)))
    expect(tab.locator("h1")).to_contain_text("Welcome, Reviewer")
    tab.get_by_role("link", name="Staff and keys of Test exam").click()
    expect(tab.locator("h1")).to_have_text("Staff access to Test exam")
    expect(tab.locator("#pending-grants")).to_contain_text("late@uni.example")
    give = tab.get_by_role("button", name="Give access to late@uni.example")
    expect(give).to_be_disabled()  # the key is not unlocked yet
    expect(tab.locator("#grant-command")).to_contain_text(f"invigil keys grant --exam {exam.exam_id}")
    tab.evaluate("window.sameDocument = true")  # gone if the page reloads

    expect(tab.locator("#key-status")).to_contain_text("sealed again only in this browser")
    tab.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
    tab.get_by_role("button", name="Unlock my key").click()
    expect(tab.locator("#key-status")).to_contain_text("is unlocked on this page only", timeout=20_000)
    expect(give).to_be_enabled()
    give.click()
    expect(tab.locator("#grant-status")).to_have_text("late@uni.example now holds this exam's keys.")
    expect(tab.locator(f'#assigned tr[data-staff="{late_id}"] .keys-state')).to_have_text("holds the keys")
    expect(tab.locator("#pending-count")).to_have_text("0")
    assert tab.evaluate("window.sameDocument") is True

    # The new reviewer's own key now opens the candidate's screenshot.
    with installation.container.uow() as db:
        opened = keys.open_exam_keys(db, exam.exam_id, late)
        row = db.get(Exam, exam.exam_id)
        assert row is not None
        assert keys.pending_grants(db, row, utcnow()) == []
        item = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == shot))
        assert item is not None
        session_id, blob, kid = item.session_id, item.blob_key, item.exam_kid
    assert set(opened) == set(exam_keys)
    ctx = envelope.Context(exam.exam_id, session_id, shot, "screenshot")
    assert envelope.open_bytes(installation.container.store.get(blob), opened[kid or ""], expected=ctx) == PNG

    # What left the page: the grant went with the CSRF header, and neither the passphrase nor any raw
    # key (the holder's, or an exam key) is in any request.
    sent = "\n".join(tab.sent)  # type: ignore[attr-defined]
    assert f"/api/v1/staff/exams/{exam.exam_id}/grants" in sent
    assert KEY_PASSPHRASE not in sent
    secrets = [private_raw(holder), private_raw(late), *(private_raw(k) for k in exam_keys.values())]
    for raw in secrets:
        for form in _forms(raw):
            assert form not in sent

    # Reloaded, the page says the same: nobody waits any more.
    tab.reload()
    expect(tab.locator(f'#assigned tr[data-staff="{late_id}"] .keys-state')).to_have_text("holds the keys")
    expect(tab.locator("#pending-grants")).to_have_count(0)

    # And in a browser of their own, the new reviewer opens an item with their own key.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    try:
        other = context.new_page()
        errors: list[str] = []
        other.on("pageerror", lambda e: errors.append(str(e)))
        other.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        log_in(other, "late@uni.example", code_for(totp_secret("late@uni.example")))
        other.get_by_role("link", name="Review Test exam").click()
        other.get_by_role("button", name=f"Open candidate {exam.pseudonyms[0]}").click()
        other.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
        other.get_by_role("button", name="Unlock to see evidence").click()
        expect(other.locator("#review-status")).to_contain_text("choose an evidence item", timeout=SLOW)
        other.locator("#evidence tr[data-kind=process_snapshot]").get_by_role(
            "button", name=re.compile("^Open")
        ).click()
        expect(other.locator("#viewer-body")).to_contain_text("Discord.exe", timeout=SLOW)
        assert not errors, errors
    finally:
        context.close()
