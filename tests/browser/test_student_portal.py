"""The student portal in real Chromium: from the receipt link and the receipt secret, the student sees
their screenshot and camera picture decrypted in the browser, the running programs and visited web
addresses as tables, the flag with what a flag means, the reviewer's look at their data; then they
switch to Danish, open it all again with the keyboard, and close it.

The pictures of the page in docs/screenshots/ come from here:
INVIGIL_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_student_portal.py -k sqlite
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from invigil.agent.sources.sample import SampleProcesses, SampleScreen, SampleWebcam
from invigil.analysis.base import Detection
from invigil.exams import repository as exams_repo
from invigil.flags import service as flags
from invigil.kit.candidate_secret import secret_from_private
from invigil.kit.clock import iso, utcnow
from invigil.portal import texts
from invigil.review import service as review
from invigil.sessions.models import ExamSession
from tests.browser.test_portal_page import with_a_typo
from tests.factories import FULL_POLICY, login, make_exam
from tests.integration.agentkit import activate
from tests.integration.reviewkit import moving_picture, tone

MARK = "PORTAL-MARKER-7d21"
SITE = "https://docs.python.org/3/library/zoneinfo.html"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
T_EN, T_DA = texts.strings("en"), texts.strings("da")


@pytest.fixture
def handed_in(server, installation) -> dict[str, Any]:
    policy = {
        **FULL_POLICY,
        "browser_history": {"enabled": True},
        "webcam": {**FULL_POLICY["webcam"], "mode": "clips", "clip_seconds": 2},
        "microphone": {"enabled": True, "mode": "recording", "clip_seconds": 5},
    }
    exam = make_exam(installation, n=2, policy=policy)
    portal = "student-portal-" + "k" * 30
    with httpx.Client(base_url=server.url, timeout=20) as http:
        a = activate(http, exam.codes[0])
        a.upload("screenshot", SampleScreen(label="portal", marker=MARK, size=(640, 400)).capture())
        a.upload("webcam_frame", SampleWebcam().capture())
        a.upload("process_snapshot", SampleProcesses(extra=[MARK + ".exe"], seed="portal").capture())
        visits = {
            "taken_at": iso(utcnow()),
            "visits": [{"url": SITE, "title": "zoneinfo", "at": iso(utcnow())}],
        }
        a.upload("browser_history", json.dumps(visits).encode())
        a.upload("audio_clip", tone())
        a.upload("webcam_clip", moving_picture())
        handin = a.upload("handin_file", f"My answers. {MARK}".encode())
        assert a.handin([handin], portal=portal).status_code == 200
        # A reviewer looks at the list of recordings, a flag is raised, a decision is recorded.
        h = login(server.url, "reviewer")
        assert http.get(f"/api/v1/staff/sessions/{a.session_id}/evidence", headers=h).status_code == 200
    with installation.container.uow() as db:
        session = db.get(ExamSession, a.session_id)
        assert session is not None
        at = session.activated_at
        # A detection as the analysis worker records it, and the flags rebuilt from it.
        detection = Detection("process.forbidden", 1.0, at, at)
        flags.record(db, session.exam_id, session.id, "worker", [detection])
        flags.rebuild(db, exams_repo.get(db, session.exam_id), session.id)
        review.decide(
            db,
            session,
            installation.staff["reviewer"],
            "no_action",
            "The program was a music player, allowed in this exam.",
            utcnow(),
        )
    return {"url": f"{server.url}/me/{portal}", "candidate": a.candidate}


def natural_size(locator: Any) -> list[int]:
    return locator.evaluate(
        "async img => { await img.decode(); return [img.naturalWidth, img.naturalHeight]; }"
    )


def test_the_student_sees_everything_in_english_then_danish(browser, handed_in, database_url):
    context = browser.new_context(viewport={"width": 1000, "height": 1200}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    secret = secret_from_private(handed_in["candidate"])
    save = database_url.startswith("sqlite") and os.environ.get("INVIGIL_UPDATE_SCREENSHOTS")

    page.goto(handed_in["url"])
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(T_EN["title"])
    expect(page.locator("#flags")).to_contain_text(T_EN["flags_explain"])
    expect(page.locator("#flags")).to_contain_text(T_EN["b_process.forbidden"])
    expect(page.locator("#access-log")).to_contain_text("Reviewer (ref. ")
    expect(page.locator("#decisions")).to_contain_text("a music player")
    expect(page.locator("#items .sealed")).to_have_count(7)  # listed, still sealed

    page.get_by_label(T_EN["secret_label"]).fill(secret.lower())
    page.get_by_role("button", name=T_EN["open_button"]).click()
    expect(page.locator("#status")).to_have_text(T_EN["js_opened"].format(n=7, total=7), timeout=20_000)
    screen = page.locator(".kind-screenshot img")
    assert natural_size(screen) == [640, 400]  # the decrypted PNG, drawn by the browser
    assert screen.get_attribute("alt").startswith("Your screen at ")
    camera = page.locator(".kind-webcam_frame img")
    assert min(natural_size(camera)) > 100  # the decrypted JPEG
    assert camera.get_attribute("alt").startswith("Your camera's picture at ")
    assert natural_size(page.locator(".kind-webcam_clip img")) == [320, 240]  # the clip, moving
    programs = page.locator(".kind-process_snapshot table")
    expect(programs.locator("thead")).to_contain_text(T_EN["js_col_program"])
    expect(programs.locator("tbody")).to_contain_text(MARK + ".exe")
    assert programs.locator("tbody tr").count() > 3
    expect(page.locator(".kind-browser_history table")).to_contain_text(SITE)
    expect(page.locator(".kind-handin_file pre")).to_contain_text(f"My answers. {MARK}")
    sound = page.locator(".kind-audio_clip audio")  # played from a blob: URL the CSP allows for media
    sound.evaluate(
        "a => new Promise((ok) => (a.readyState >= 1 ? ok() : a.addEventListener('loadedmetadata', ok)))"
    )
    assert abs(sound.evaluate("a => a.duration") - 1.0) < 0.05
    assert page.input_value("#secret") == ""  # the field is emptied at once
    if save:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "student-portal.png"), full_page=True)

    # Danish: the switch, then the secret again, submitted from the keyboard.
    page.get_by_role("navigation", name=T_EN["language"]).get_by_role("link", name="Dansk").click()
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text(T_DA["title"])
    expect(page.locator("#flags")).to_contain_text(T_DA["flags_explain"])
    expect(page.locator("#open-button")).to_be_enabled()  # portal.js listens, else Enter sent the secret
    field = page.get_by_label(T_DA["secret_label"])
    field.focus()
    page.keyboard.type(secret)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text(T_DA["js_opened"].format(n=7, total=7), timeout=20_000)
    expect(page.locator(".kind-process_snapshot thead")).to_contain_text(T_DA["js_col_pid"])
    assert page.locator(".kind-screenshot img").get_attribute("alt").startswith("Din skærm 20")
    expect(page.locator("#access-log")).to_contain_text(T_DA["who_reviewer"])
    if save:
        page.screenshot(path=str(SCREENSHOTS / "student-portal-da.png"), full_page=True)

    page.get_by_role("button", name=T_DA["close_button"]).click()
    expect(page.locator("#status")).to_have_text(T_DA["js_closed"])
    assert page.locator("#items img").count() == 0
    assert page.locator("#items audio").count() == 0
    assert page.locator("#items table").count() == 0
    expect(page.locator("#items .sealed")).to_have_count(7)
    assert not errors, errors
    context.close()


def test_a_wrong_secret_is_explained_in_the_page_language(browser, handed_in):
    context = browser.new_context()
    page = context.new_page()
    page.goto(handed_in["url"] + "?lang=de")
    page.fill("#secret", "ABCD-EFGH")
    page.click("#open-button")
    expect(page.locator("#status")).to_have_text(texts.M["js_length"]["de"].format(n=8))
    page.fill("#secret", with_a_typo(secret_from_private(handed_in["candidate"])))
    page.click("#open-button")
    expect(page.locator("#status")).to_have_text(texts.M["js_typo"]["de"])
    assert page.locator("#items img").count() == 0
    context.close()


def test_the_downloaded_copy_opens_offline_in_the_language_of_the_page(browser, handed_in, tmp_path):
    """The download link of the Danish page gives a ZIP whose offline opener speaks Danish."""
    import zipfile

    context = browser.new_context()
    page = context.new_page()
    page.goto(handed_in["url"] + "?lang=da")
    href = page.get_attribute("#export", "href")
    assert href.endswith("?lang=da")
    archive = tmp_path / "copy.zip"
    archive.write_bytes(httpx.get(page.url.split("/me/")[0] + href, timeout=20).content)
    folder = tmp_path / "mine"
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    page.goto((folder / "open.html").as_uri())
    expect(page.locator("html")).to_have_attribute("lang", "da")
    expect(page.get_by_role("heading", level=1)).to_have_text(T_DA["opener_title"])
    page.set_input_files("#folder", str(folder))
    page.fill("#secret", "ABCD")
    page.click("#open")
    expect(page.locator("#status")).to_have_text(T_DA["js_length"].format(n=4))
    page.fill("#secret", secret_from_private(handed_in["candidate"]))
    page.click("#open")
    expect(page.locator("#status")).to_have_text(T_DA["opener_opened"].format(n=7), timeout=20_000)
    assert page.locator("#items img").count() == 3  # screenshot, camera picture, camera clip
    expect(page.locator("#items")).to_contain_text(T_DA["kind_process_snapshot"])
    context.close()
