"""The reviewer workspace end to end in real Chromium: TOTP login, the exam overview with the flagged
candidate ranked first, their timeline, the key unlocked once, a screenshot and a process snapshot
decrypted in the page, a decision and an erasure (each with a reason), the case file downloaded.
Strict CSP throughout: no console error, no violation.

The README's picture: INVIGIL_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_review_workspace.py
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from invigil.audit.models import AccessLogEntry
from tests.browser.conftest import staff_tab
from tests.factories import KEY_PASSPHRASE, PASSWORD, credentials
from tests.integration.reviewkit import reviewable_exam

PICTURE = Path(__file__).parents[2] / "docs" / "img" / "review-timeline.png"
SLOW = 20_000  # ms: key unwrapping (PBKDF2) and decryption in the page


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off", "run_jobs_in_process": False})


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1280, 1000, accept_downloads=True) as page:
        yield page


def log_in(page: Any, url: str, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_contain_text("Your code")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        credentials(url, email)["totp"]
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_contain_text("Welcome")


def test_review_a_flagged_candidate_end_to_end(tab, server, installation, tmp_path, database_url):
    c = installation.container
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = reviewable_exam(http, installation, tmp_path)
    flagged = world.pseudonyms["flagged"]

    log_in(tab, server.url, "reviewer@uni.example")
    tab.get_by_role("link", name="Review Test exam").click()
    expect(tab.locator("h1")).to_contain_text("Review: Test exam")
    expect(tab.locator(".never-decides")).to_contain_text("Invigil never decides")

    # The overview: the exam's own distributions, and the flagged candidate ranked first.
    rows = tab.locator("#ranking tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text(flagged)
    expect(rows.first).to_contain_text("1 red")
    expect(rows.first).to_contain_text("2 yellow")
    expect(rows.nth(1)).to_contain_text(world.pseudonyms["quiet"])
    expect(tab.locator("#cohort-charts svg")).to_have_count(3)
    expect(tab.locator("#cohort-charts")).to_contain_text("median")
    pairs = tab.locator("#near-duplicates li")
    expect(pairs).to_have_count(1)
    expect(pairs).to_contain_text(flagged)
    expect(pairs).to_contain_text(world.pseudonyms["quiet"])

    # One candidate, in the same document: timeline on a time axis and as a list, flags, evidence.
    tab.get_by_role("button", name=f"Open candidate {flagged}").click()
    expect(tab.locator("#candidate-heading")).to_contain_text(flagged)
    chart = tab.locator("#timeline-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator(".flag.sev-red")).to_have_count(1)
    expect(chart).to_contain_text("RED · process: forbidden")
    expect(chart).to_contain_text("handed in")
    expect(chart.locator(".offline")).to_have_count(1)
    expect(tab.locator("#timeline-list")).to_contain_text("offline for 3 min")
    red = tab.locator("#flags tr.sev-row-red")
    expect(red).to_contain_text("process: forbidden")

    # Unlock once; then open a screenshot, decrypted here.
    tab.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
    tab.get_by_role("button", name="Unlock to see evidence").click()
    expect(tab.locator("#key-status")).to_contain_text("unlocked on this page only", timeout=SLOW)
    expect(tab.locator("#review-status")).to_contain_text("choose an evidence item", timeout=SLOW)
    expect(tab.locator("#unlock-form")).to_be_hidden()  # unlocked once for this page
    tab.locator("#evidence tr[data-kind=screenshot]").get_by_role("button", name=re.compile("^Open")).click()
    img = tab.locator("#viewer-body img")
    expect(img).to_be_visible(timeout=SLOW)
    tab.wait_for_function("() => document.querySelector('#viewer-body img')?.complete", timeout=SLOW)
    assert tab.evaluate("document.querySelector('#viewer-body img').naturalWidth") == 480
    assert tab.evaluate("document.querySelector('#viewer-body img').src").startswith("blob:")

    # From the red flag to the item it rests on: a readable table of the processes.
    red.get_by_role("button", name=re.compile("process snapshot")).click()
    table = tab.locator("#viewer-body table")
    expect(table).to_be_visible(timeout=SLOW)
    expect(table.locator("caption")).to_contain_text("4 programs running")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table).to_contain_text("Discord.exe")
    expect(tab.locator("#viewer-body img")).to_have_count(0)  # the earlier picture is gone
    tab.locator("#evidence tr[data-kind=browser_history]").get_by_role(
        "button", name=re.compile("^Open")
    ).click()
    expect(tab.locator("#viewer-body table")).to_contain_text("https://chatgpt.com/c/answer", timeout=SLOW)

    # An incident note about the candidate, on the timeline at once.
    tab.get_by_label(re.compile("^Add a note about this candidate")).fill(
        "The candidate phoned about a fire alarm."
    )
    tab.get_by_role("button", name="Add the note").click()
    expect(tab.locator("#note-status")).to_contain_text("was added")
    expect(tab.locator("#note-list")).to_contain_text("fire alarm")
    expect(tab.locator("#timeline-chart svg .note")).to_have_count(1)

    # A decision, with a reason; the page says the software never decides.
    expect(tab.locator("#decide")).to_contain_text("The software never decides")
    tab.get_by_role("radio", name=re.compile("Follow up")).check()
    tab.get_by_label(re.compile("^Your reason")).fill("Ask the candidate why Discord was open at 12 minutes.")
    tab.get_by_role("button", name="Record my decision").click()
    expect(tab.locator("#decision-status")).to_contain_text("was recorded")
    expect(tab.locator("#decision-history")).to_contain_text("why Discord was open")
    expect(tab.locator("#timeline-chart svg .decision")).to_have_count(1)

    # Erase the webcam frame: a confirm step, and the server refuses a reason that is not one.
    webcam = tab.locator("#evidence tr[data-kind=webcam_frame]")
    webcam.get_by_role("button", name=re.compile("^Erase")).click()
    dialog = tab.locator("#erase-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("What sensitive data")).fill("private")
    dialog.get_by_role("button", name="Erase permanently").click()
    expect(tab.locator("#erase-error")).to_contain_text("Tick the box")
    dialog.get_by_label("I understand that this cannot be undone.").check()
    dialog.get_by_role("button", name="Erase permanently").click()
    expect(tab.locator("#erase-error")).to_contain_text("at least 10 characters")
    dialog.get_by_label(re.compile("What sensitive data")).fill(
        "A family member is visible behind the candidate."
    )
    dialog.get_by_role("button", name="Erase permanently").click()
    expect(dialog).to_be_hidden()
    expect(tab.locator("#review-status")).to_contain_text("was erased")
    expect(webcam).to_contain_text("erased")
    expect(webcam.get_by_role("button")).to_have_count(0)

    if database_url.startswith("sqlite") and os.environ.get("INVIGIL_UPDATE_SCREENSHOTS"):
        expect(tab.locator("#viewer")).to_be_hidden()  # reloading the candidate closed the item
        for name, first, last in (
            (PICTURE, "candidate-heading", "flags"),
            (PICTURE.with_name("review-overview.png"), "overview-heading", "near-duplicates"),
        ):
            # Page coordinates (bounding boxes are relative to the viewport).
            box = tab.evaluate(
                """([first, last]) => {
                  const y = (id, end) => { const r = document.getElementById(id).getBoundingClientRect();
                    return window.scrollY + (end ? r.bottom : r.top); };
                  return { top: y(first, false), bottom: y(last, true) };
                }""",
                [first, last],
            )
            height = box["bottom"] - box["top"] + 24
            clip = {"x": 0, "y": box["top"] - 12, "width": 1280, "height": height}
            tab.screenshot(path=str(name), full_page=True, clip=clip)

    # Locking the key closes what was opened; opening needs the key again.
    tab.locator("#evidence tr[data-kind=screenshot]").get_by_role("button", name=re.compile("^Open")).click()
    expect(tab.locator("#viewer-body img")).to_be_visible(timeout=SLOW)
    tab.get_by_role("button", name="Lock my key").click()
    expect(tab.locator("#viewer")).to_be_hidden()
    expect(tab.locator("#unlock-form")).to_be_visible()
    tab.locator("#evidence tr[data-kind=screenshot]").get_by_role("button", name=re.compile("^Open")).click()
    expect(tab.locator("#review-status")).to_contain_text("Unlock your key first")
    assert tab.evaluate("document.activeElement.id") == "passphrase"

    # The case file: a download with the case and the sealed items; written to the access log.
    with tab.expect_download() as download:
        tab.get_by_role("link", name="Download the case file").click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith(f"case-{flagged}")
    z = zipfile.ZipFile(io.BytesIO(Path(path).read_bytes()))
    case = json.loads(z.read("case.json"))
    assert case["candidate"] == flagged
    assert [d["outcome"] for d in case["decisions"]] == ["follow_up"]
    assert {e["kind"]: e["status"] for e in case["evidence"]}["webcam_frame"] == "erased"
    assert any(n.startswith("sealed/") and "_screenshot_" in n for n in z.namelist())

    # Each of those views is in the access log; the passphrase never left the page.
    me = installation.staff["reviewer"]
    with c.uow() as db:
        actions = set(db.scalars(select(AccessLogEntry.action).where(AccessLogEntry.actor_id == me)))
    assert {
        "cohort.read",
        "flags.list",
        "timeline.read",
        "flags.read",
        "evidence.list",
        "key.fetch",
        "evidence.read",
        "decision.record",
        "note.add",
        "evidence.erase",
        "casefile.export",
    } <= actions
    assert not any(KEY_PASSPHRASE in s or KEY_PASSPHRASE.replace(" ", "+") in s for s in tab.sent)


def test_an_invigilator_reads_but_cannot_decide(tab, server, installation, tmp_path):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = reviewable_exam(http, installation, tmp_path)
    log_in(tab, server.url, "invigilator@uni.example")
    tab.goto(f"/exams/{world.exam_id}/review")
    expect(tab.locator("#ranking tbody tr").first).to_contain_text(world.pseudonyms["flagged"])
    tab.get_by_role("button", name=f"Open candidate {world.pseudonyms['flagged']}").click()
    expect(tab.locator("#timeline-chart svg")).to_be_visible()
    expect(tab.locator("#candidate")).to_contain_text(
        "Decisions, erasure and the case file are for the exam's reviewers"
    )
    expect(tab.get_by_role("button", name=re.compile("^Erase"))).to_have_count(0)
    expect(tab.locator("#decision-form")).to_have_count(0)


def test_sound_and_camera_clips_play_then_the_idle_key_locks_and_closes_them(
    tab, server, installation, tmp_path
):
    """Decrypted in the page and played from a blob: URL, which the page's CSP allows for media. Left
    alone for the idle time (the page's clock is Playwright's), the key is forgotten and what was
    open is closed."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        world = reviewable_exam(http, installation, tmp_path)
    log_in(tab, server.url, "reviewer@uni.example")
    tab.clock.install()
    tab.goto(f"/exams/{world.exam_id}/review")
    tab.get_by_role("button", name=f"Open candidate {world.pseudonyms['quiet']}").click()
    tab.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
    tab.get_by_role("button", name="Unlock to see evidence").click()
    expect(tab.locator("#review-status")).to_contain_text("choose an evidence item", timeout=SLOW)
    tab.locator("#evidence tr[data-kind=audio_clip]").get_by_role("button", name=re.compile("^Open")).click()
    audio = tab.locator("#viewer-body audio")
    expect(audio).to_be_visible(timeout=SLOW)
    assert tab.evaluate("document.querySelector('#viewer-body audio').src").startswith("blob:")
    # The browser read the sound: its length is known (a refused or broken source never gets one).
    tab.wait_for_function("() => document.querySelector('#viewer-body audio').readyState >= 1", timeout=SLOW)
    duration = tab.evaluate("document.querySelector('#viewer-body audio').duration")
    assert abs(duration - 1.0) < 0.05
    # A camera clip: an animated WebP, played by the browser as a picture.
    tab.locator("#evidence tr[data-kind=webcam_clip]").get_by_role("button", name=re.compile("^Open")).click()
    clip = tab.locator("#viewer-body img")
    expect(clip).to_be_visible(timeout=SLOW)
    assert clip.evaluate("async img => { await img.decode(); return img.naturalWidth; }") == 320
    expect(tab.locator("#viewer-body audio")).to_have_count(0)  # the sound clip was closed

    idle = installation.container.settings.web_session_idle_seconds
    tab.clock.fast_forward((idle - 10) * 1000)
    expect(tab.locator("#viewer-body img")).to_have_count(1)  # not yet
    tab.clock.fast_forward(20 * 1000)
    expect(tab.locator("#key-status")).to_contain_text("locked again after a while without use")
    expect(tab.locator("#viewer-body img")).to_have_count(0)
    expect(tab.locator("#viewer")).to_be_hidden()
    expect(tab.get_by_label("Key passphrase")).to_be_visible()
