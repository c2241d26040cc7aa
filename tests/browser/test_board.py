"""The live board in real Chromium while a simulated class runs against the same server: the
invigilator logs in with TOTP, watches rows change without a reload, sorts and filters with the
keyboard, opens a candidate, unlocks their key once, sees the last screen and webcam picture
decrypted in the page, and writes an incident note. No console error, no CSP violation.

The README's picture: INVIGIL_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_board.py
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from invigil.exams.models import Exam
from invigil.sim.classroom import Seat, run_class, script
from tests.browser.conftest import staff_tab
from tests.browser.test_login_pages import code_for, log_in, screenshot
from tests.factories import KEY_PASSPHRASE, ExamSetup, give_key, make_exam, totp_secret

SECONDS = 100  # the exam's length: the "network" candidate is offline from 25 s to 60 s, one hands in at 45 s
POLICY: dict[str, Any] = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}},
    "webcam": {"enabled": True, "mode": "snapshots", "interval": {"min_seconds": 5, "max_seconds": 6}},
    "process_snapshots": {"enabled": True, "interval_seconds": 5, "forbidden": ["discord"]},
    "handin_folder_backup": {"enabled": True},
    "tail_period_seconds": 5,
    "allowed_offline_seconds": 600,
}


class Classroom:
    """``sim/classroom.py``'s class in a thread of its own, with its own event loop (Playwright's sync
    API holds the main thread's), stopped by cancelling its task."""

    def __init__(self, seats: list[Seat], url: str, spool: Path, start: datetime, end: datetime) -> None:
        self.loop = asyncio.new_event_loop()
        self.task = self.loop.create_task(run_class(seats, url, spool, start, end))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass
        finally:  # as asyncio.run ends: whatever is still pending is cancelled and awaited
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    def stop(self) -> None:
        if not self.task.done():
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.thread.join(timeout=30)


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1440, 960) as page:
        yield page


@pytest.fixture
def classroom(installation, server, tmp_path) -> Iterator[ExamSetup]:
    give_key(installation, "invigilator")  # before the exam: the invigilator holds its keys at once
    exam = make_exam(installation, n=6, policy=POLICY, minutes=SECONDS / 60, start_offset=0.05)
    with installation.container.uow() as db:
        row = db.get(Exam, exam.exam_id)
        assert row is not None
        start, end = row.starts_at, row.ends_at
    seats = [Seat(p, c, b) for p, c, b in zip(exam.pseudonyms, exam.codes, script(6), strict=True)]
    running = Classroom(seats, server.url, tmp_path / "agents", start, end)
    running.thread.start()
    yield exam
    running.stop()


def states(tab: Any) -> dict[str, str]:
    return dict(
        tab.evaluate(
            """() => [...document.querySelectorAll('#rows tr')].map(
                 (tr) => [tr.dataset.session, tr.querySelector('.state-badge').dataset.state])"""
        )
    )


def visible_candidates(tab: Any) -> list[str]:
    return list(
        tab.evaluate(
            """() => [...document.querySelectorAll('#rows tr:not([hidden]) th button')].map(
                 (b) => b.firstChild.textContent)"""
        )
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_live_board_while_a_class_runs(tab, installation, classroom, database_url):
    exam = classroom
    email = "invigilator@uni.example"
    log_in(tab, email, code_for(totp_secret(email)))
    expect(tab.locator("h1")).to_contain_text("Welcome, Invigilator")
    tab.get_by_role("link", name="Open the board of Test exam").click()
    expect(tab.locator("h1")).to_contain_text("Test exam")
    expect(tab.locator("#rows tr")).to_have_count(6, timeout=20_000)
    expect(tab.locator("#connection")).to_have_text("Live")
    tab.evaluate("window.sameDocument = true")  # gone if the page reloads

    # Rows change live: the class activates, runs, loses the network, hands in.
    before = states(tab)
    tab.wait_for_function(
        """(before) => [...document.querySelectorAll('#rows tr')].some(
             (tr) => tr.querySelector('.state-badge').dataset.state !== before[tr.dataset.session])""",
        arg=before,
        timeout=30_000,
    )
    network = exam.session_ids[1]  # script(): the second candidate loses the network at 25 s
    expect(tab.locator(f'#rows tr[data-session="{network}"] .state-badge')).to_have_text(
        "offline", timeout=60_000
    )
    expect(tab.locator("#summary")).to_contain_text("1 offline")
    assert tab.evaluate("window.sameDocument") is True
    heartbeat = tab.locator(f'#rows tr[data-session="{network}"] .heartbeat time')
    first = heartbeat.inner_text()
    expect(heartbeat).not_to_have_text(first, timeout=5_000)  # the time since the heartbeat ticks

    # Sort and filter with the keyboard alone.
    tab.locator("button.sort[data-sort=red]").focus()
    tab.keyboard.press("Enter")
    expect(tab.locator("th:has(button[data-sort=red])")).to_have_attribute("aria-sort", "descending")
    tab.locator("button.sort[data-sort=candidate]").focus()
    tab.keyboard.press("Enter")
    expect(tab.locator("th:has(button[data-sort=candidate])")).to_have_attribute("aria-sort", "ascending")
    assert visible_candidates(tab) == sorted(exam.pseudonyms)
    tab.keyboard.press("Enter")  # again: the other way round
    assert visible_candidates(tab) == sorted(exam.pseudonyms, reverse=True)
    target = exam.pseudonyms[5]  # script(): starts a forbidden program
    tab.locator("#search").focus()
    tab.keyboard.type(target[:-1].lower())
    expect(tab.locator("#shown")).to_contain_text("Showing")
    assert target in visible_candidates(tab)
    tab.keyboard.press("Control+A")
    tab.keyboard.press("Backspace")
    tab.locator("#state-filter").focus()
    tab.locator("#state-filter").select_option("offline")
    assert visible_candidates(tab) == [exam.pseudonyms[1]]
    tab.locator("#state-filter").select_option("")
    assert len(visible_candidates(tab)) == 6
    tab.locator("#only-flagged").focus()
    tab.keyboard.press("Space")  # the candidate with a forbidden program gets a red flag
    expect(tab.locator(f'#rows tr[data-session="{exam.session_ids[5]}"] .flag-red')).to_be_visible(
        timeout=30_000
    )
    assert tab.locator("#rows tr:not([hidden]):not(:has(.flag-chip))").count() == 0
    tab.keyboard.press("Space")
    assert len(visible_candidates(tab)) == 6

    # Open a candidate with the keyboard, unlock the key once, see the pictures opened in the page.
    tab.locator(f'#rows tr[data-session="{exam.session_ids[5]}"] button.candidate-open').focus()
    tab.keyboard.press("Enter")
    expect(tab.locator("#panel")).to_be_visible()
    expect(tab.locator("#panel-candidate")).to_have_text(target)
    assert tab.evaluate("document.activeElement.id") == "panel-title"
    expect(tab.locator("#unlock-form button[type=submit]")).to_be_enabled()
    tab.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
    tab.get_by_label("Key passphrase").press("Enter")
    expect(tab.locator("#key-status")).to_contain_text("is unlocked on this page only", timeout=20_000)
    for figure in ("#last-screenshot", "#last-webcam"):
        expect(tab.locator(f"{figure} img")).to_be_visible(timeout=30_000)
        assert tab.eval_on_selector(f"{figure} img", "img => img.decode().then(() => img.naturalWidth)") > 0
        assert tab.eval_on_selector(f"{figure} img", "img => img.src").startswith("blob:")
    expect(tab.locator("#evidence-status")).to_contain_text("access log")
    assert tab.evaluate("window.sameDocument") is True

    # An incident note, written in the panel, listed there.
    note = "Candidate asked whether Discord may stay open; told to close it."
    tab.get_by_label("New note about this candidate").fill(note)
    tab.get_by_role("button", name="Add note").click()
    expect(tab.locator("#note-status")).to_have_text("Note saved.")
    expect(tab.locator("#note-list")).to_contain_text(note)
    expect(tab.locator("#note-list")).to_contain_text("you")
    tab.locator("button.sort[data-sort=state]").click()  # offline first, for the picture
    screenshot(tab, "board.png", database_url)

    # The views went through the API, which wrote them to the access log.
    with installation.container.uow() as db:
        logged = db.scalars(
            select(AccessLogEntry).where(AccessLogEntry.actor_id == installation.staff["invigilator"])
        ).all()
        reads = {(e.action, e.session_id, e.detail.get("kind")) for e in logged}
    assert ("evidence.read", exam.session_ids[5], "screenshot") in reads
    assert ("evidence.read", exam.session_ids[5], "webcam_frame") in reads
    assert ("board.watch", None, None) in reads

    # Another candidate in the same document: the key stays unlocked; Escape closes the panel.
    tab.locator(f'#rows tr[data-session="{exam.session_ids[0]}"] button.candidate-open').click()
    expect(tab.locator("#panel-candidate")).to_have_text(exam.pseudonyms[0])
    expect(tab.locator("#last-screenshot img")).to_be_visible(timeout=30_000)

    # Locking the key takes the opened pictures off the page and offers the unlock form again.
    tab.get_by_role("button", name="Lock my key").click()
    expect(tab.locator("#panel img")).to_have_count(0)
    expect(tab.locator("#evidence-status")).to_contain_text("Your key is locked")
    expect(tab.get_by_label("Key passphrase")).to_be_visible()
    expect(tab.locator("#key-status")).to_have_text("Locked.")
    tab.get_by_label("Key passphrase").focus()
    tab.keyboard.press("Escape")
    expect(tab.locator("#panel")).to_be_hidden()
    assert tab.evaluate("document.activeElement.firstChild.textContent") == exam.pseudonyms[0]
