"""The exam office in real Chromium: a coordinator logs in with TOTP, creates an exam through the
policy editor (the privacy cost follows each switch through htmx, keyboard included), imports a CSV
and opens the printable code sheet. Under the strict CSP: no violation may be reported.

The picture for the docs: INVIGIL_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_admin_pages.py
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from invigil.exams.models import Candidate, Exam
from invigil.kit import totp
from tests.browser.conftest import staff_tab
from tests.factories import PASSWORD, totp_secret

SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
EMAIL = "coordinator@uni.example"
ROSTER = b"pseudonym,full_name,student_number\nS-2001,Ada Lovelace,s2001\nS-2002,Grace Hopper,s2002\n"


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1280, 900) as page:
        yield page


def test_coordinator_creates_an_exam_imports_candidates_and_prints_codes(tab, installation, database_url):
    tab.goto("/login")
    tab.get_by_label("Email").fill(EMAIL)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.locator("h1")).to_contain_text("Your code")
    tab.get_by_label("Code from your authenticator app, or a recovery code").fill(
        totp.code_at(totp_secret(EMAIL), time.time())
    )
    tab.get_by_role("button", name="Continue").click()
    expect(tab.locator("h1")).to_contain_text("Welcome, Coordinator")

    tab.locator("#admin-exams-link").click()
    tab.get_by_role("link", name="New exam").click()
    expect(tab.locator("h1")).to_have_text("New exam")
    tab.get_by_label("Title").fill("Organic Chemistry 2")
    tab.get_by_label("Starts").fill("2031-06-12T09:00")
    tab.get_by_label("Ends").fill("2031-06-12T13:00")
    tab.get_by_label("Time zone of these times").fill("Europe/Copenhagen")
    summary = tab.locator("#policy-summary")
    expect(summary).to_contain_text("Nothing is collected")

    # The webcam costs the most: switched on, the total says so; switched off again, with the keyboard.
    webcam = tab.get_by_label("Collect: webcam")
    webcam.check()
    expect(summary).to_contain_text("Privacy cost: 3")
    expect(summary).to_contain_text("1 high-cost source")
    webcam.focus()
    tab.keyboard.press("Space")
    expect(webcam).not_to_be_checked()
    expect(summary).to_contain_text("Nothing is collected")

    # The least intrusive setup that still answers the risk of a take-home written exam.
    tab.get_by_label("Collect: screenshots").check()
    tab.get_by_label("Every", exact=True).first.fill("120")
    tab.get_by_label("at most", exact=True).first.fill("300")
    tab.get_by_label("Collect: running programs").check()
    tab.get_by_label("Forbidden programs (one per line; * and ? as wildcards)").fill("discord\nteamviewer*")
    tab.get_by_label("Collect: hand-in backup").check()
    tab.get_by_label("When a USB stick is plugged in").select_option("record")
    tab.get_by_label("Clear the clipboard at the start and at the end").check()
    expect(summary).to_contain_text("Privacy cost: 6")
    expect(summary).to_contain_text("highest: medium")
    expect(tab.locator("#source-screenshots")).to_contain_text("privacy cost: medium")
    expect(tab.locator("#source-face_verification")).to_contain_text("special category")
    if database_url.startswith("sqlite") and os.environ.get("INVIGIL_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.locator("h1").scroll_into_view_if_needed()
        tab.screenshot(path=str(SCREENSHOTS / "admin-policy-editor.png"), full_page=True)

    # A problem is explained next to its field, and nothing is saved.
    tab.get_by_label("Collect: biometric face verification").check()
    tab.get_by_role("button", name="Create the exam").click()
    expect(tab.locator("#error-summary")).to_contain_text("need the webcam")
    tab.get_by_label("Collect: biometric face verification").uncheck()
    tab.get_by_role("button", name="Create the exam").click()
    expect(tab.locator("h1")).to_have_text("Organic Chemistry 2")
    expect(tab.locator(".policy-summary")).to_contain_text("Privacy cost: 6")
    with installation.container.uow() as db:
        exam = db.scalars(select(Exam)).one()
        assert exam.policy["screenshots"]["interval"] == {"min_seconds": 120, "max_seconds": 300}
        assert not exam.policy["face_verification"]["enabled"]

    tab.get_by_role("link", name="Candidates and codes").click()
    tab.get_by_label("Choose a CSV file").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER}
    )
    expect(tab.get_by_label("Or paste the list")).to_have_value(ROSTER.decode())
    tab.get_by_role("button", name="Import and issue codes").click()
    expect(tab.locator("h1")).to_contain_text("Activation codes for Organic Chemistry 2")
    cards = tab.locator(".code-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Ada Lovelace")
    codes = tab.locator(".code-card .code").all_inner_texts()
    assert all(re.fullmatch(r"[0-9A-Z-]{10,}", c) for c in codes), codes
    tab.emulate_media(media="print")  # the printed sheet: cards only, no page chrome
    expect(tab.locator(".site-header")).to_be_hidden()
    expect(tab.locator("#print")).to_be_hidden()
    expect(cards.first).to_be_visible()
    tab.emulate_media(media="screen")
    with installation.container.uow() as db:
        assert sorted(db.scalars(select(Candidate.pseudonym))) == ["S-2001", "S-2002"]
