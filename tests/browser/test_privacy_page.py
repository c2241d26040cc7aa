"""Data-subject requests on the retention and privacy page in real Chromium: the exam's reviewer logs
in with TOTP, registers an erasure request, cannot send it without a reason and the confirmation box,
then erases; a restriction is put in force and lifted. No console error, no CSP violation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from invigil.exams.models import CandidateIdentity
from invigil.privacy.models import SubjectRequest
from tests.browser.conftest import staff_tab
from tests.browser.test_login_pages import code_for, log_in
from tests.factories import make_exam, totp_secret

EMAIL = "reviewer@uni.example"
REASON = "Written request of 22 Nov, identity checked by the exam office."


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1280, 900) as page:
        yield page


def statuses(installation: Any) -> dict[str, str]:
    with installation.container.uow() as db:
        return {r.kind: r.status for r in db.scalars(select(SubjectRequest))}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_reviewer_erases_and_restricts_through_the_page(tab, installation, database_url):
    exam = make_exam(installation, n=2)
    first, second = exam.pseudonyms
    log_in(tab, EMAIL, code_for(totp_secret(EMAIL)))
    tab.get_by_role("link", name="Holds and requests of Test exam").click()
    expect(tab.locator("h1")).to_have_text("Retention and privacy of Test exam")

    tab.get_by_label("Request of").select_option(label=f"candidate {first}")
    tab.get_by_label("They ask for").select_option("erasure")
    tab.get_by_label("How and when it came in").fill("Letter of 21 Nov")
    tab.get_by_role("button", name="Register the request").click()
    expect(tab.locator("#saved")).to_contain_text("The request is registered")

    tab.get_by_text("Carry out or refuse").click()
    form = tab.locator("form[id^=carry-out-]")
    expect(form).to_contain_text("This deletes the candidate's evidence and name; it cannot be undone.")
    erase = form.get_by_role("button", name="Erase the data")
    erase.click()  # no reason, no confirmation: the browser keeps the form here
    assert form.evaluate("f => f.checkValidity()") is False
    form.get_by_label("Reason for carrying it out").fill(REASON)
    erase.click()  # still no confirmation
    assert form.evaluate("f => f.checkValidity()") is False
    assert statuses(installation) == {"erasure": "open"}
    form.get_by_label(f"I understand: erase {first}'s data now").check()
    erase.click()
    expect(tab.locator("#saved")).to_contain_text("data was erased")
    assert statuses(installation) == {"erasure": "done"}
    with installation.container.uow() as db:
        assert len(db.scalars(select(CandidateIdentity)).all()) == 1  # only the other candidate's name

    tab.get_by_label("Request of").select_option(label=f"candidate {second}")
    tab.get_by_label("They ask for").select_option("restriction")
    tab.get_by_role("button", name="Register the request").click()
    tab.get_by_text("Carry out or refuse").click()
    tab.get_by_label("Reason for carrying it out").fill("Accuracy contested by the student.")
    tab.get_by_role("button", name="Put the restriction in force").click()
    expect(tab.locator("#saved")).to_contain_text("The restriction is in force")
    tab.get_by_label("Reason for lifting the restriction").fill("The student's complaint was resolved.")
    tab.get_by_role("button", name="Lift the restriction").click()
    expect(tab.locator("#saved")).to_contain_text("The restriction was lifted")
    assert statuses(installation) == {"erasure": "done", "restriction": "lifted"}
