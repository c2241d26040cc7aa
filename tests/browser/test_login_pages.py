"""Staff log in in real Chromium: password and TOTP (the code computed here, as a phone would),
enrolment at first login, a recovery code, the keyboard alone, unlocking the key in the page, logout.
Every page runs under the strict CSP: no violation may be reported."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from invigil.accounts import service as accounts
from invigil.accounts.models import Role
from invigil.institutions.models import Institution
from invigil.kit import totp
from tests.browser.conftest import staff_tab
from tests.factories import KEY_PASSPHRASE, PASSWORD, give_key, make_exam, totp_secret

# The README's pictures: INVIGIL_UPDATE_SCREENSHOTS=1 pytest tests/browser/test_login_pages.py
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "img"


def decode_qr(png: bytes) -> str:
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    # A phone's camera sees the code with white around it (the quiet zone); the element's screenshot
    # may be cropped to the code itself, which makes the detector miss it now and then.
    framed = cv2.copyMakeBorder(image, 48, 48, 48, 48, cv2.BORDER_CONSTANT, value=255)
    # OpenCV's two detectors each miss a clean code now and then, at one scale or another; a phone
    # tries again too. Any one reading is the code's content.
    text = ""
    detectors = [
        cv2.QRCodeDetector(),
        *([cv2.QRCodeDetectorAruco()] if hasattr(cv2, "QRCodeDetectorAruco") else []),
    ]
    for scale in (1, 2, 3):
        candidate = cv2.resize(framed, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        for detector in detectors:
            text, _, _ = detector.detectAndDecode(candidate)
            if text:
                break
        if text:
            break
    assert text.startswith("otpauth://totp/"), text
    return str(text)


def code_for(secret: str) -> str:
    return totp.code_at(secret, time.time())


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1000, 900) as page:
        yield page


def screenshot(page: Any, name: str, database_url: str) -> None:
    if database_url.startswith("sqlite") and os.environ.get("INVIGIL_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def log_in(page: Any, email: str, code: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_contain_text("Your code")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    page.get_by_role("button", name="Continue").click()


def test_password_and_totp_then_logout(tab, installation, database_url):
    make_exam(installation)  # assigns the reviewer
    email = "reviewer@uni.example"
    tab.goto("/login")
    screenshot(tab, "staff-login.png", database_url)
    log_in(tab, email, code_for(totp_secret(email)))
    expect(tab.locator("h1")).to_contain_text("Welcome, Reviewer")
    header = tab.locator("header")
    expect(header).to_contain_text("Test University")
    expect(header).to_contain_text("reviewer")
    expect(tab.locator("#exams")).to_contain_text("Test exam")
    tab.get_by_role("button", name="Refresh the list").click()  # htmx, with the CSRF header
    expect(tab.locator("#exams")).to_contain_text("Test exam")
    screenshot(tab, "staff-home.png", database_url)
    tab.get_by_role("button", name="Log out").click()
    expect(tab.locator("h1")).to_contain_text("Log in")
    tab.goto("/home")
    expect(tab.locator("h1")).to_contain_text("Log in")


def test_a_wrong_code_is_explained(tab, installation):
    log_in(
        tab,
        "coordinator@uni.example",
        "000000" if code_for(totp_secret("coordinator@uni.example")) != "000000" else "111111",
    )
    expect(tab.locator("#error")).to_contain_text("not valid")


def test_enrolment_at_first_login_then_a_recovery_code(tab, installation, database_url):
    with installation.container.uow() as db:
        institution = db.get(Institution, installation.institution_id)
        accounts.create_staff(
            db, institution, "ida@uni.example", "Ida Invigilator", Role.INVIGILATOR, PASSWORD
        )
    tab.goto("/login")
    tab.get_by_label("Email").fill("ida@uni.example")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.locator("h1")).to_contain_text("Set up two-factor login")
    qr = tab.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.locator("svg path").count() >= 1
    secret = tab.locator("#secret").inner_text().replace(" ", "")
    assert f"secret={secret}" in decode_qr(qr.locator("svg").screenshot())  # what a phone's camera reads
    screenshot(tab, "staff-enrol.png", database_url)
    tab.get_by_label("The 6-digit code the app now shows").fill(code_for(secret))
    tab.get_by_role("button", name="Confirm").click()
    expect(tab.locator("h1")).to_contain_text("Two-factor login is set up")
    codes = tab.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    tab.get_by_role("link", name=re.compile("continue")).click()
    expect(tab.locator("h1")).to_contain_text("Welcome, Ida Invigilator")
    tab.get_by_role("button", name="Log out").click()
    expect(tab.locator("h1")).to_contain_text("Log in")

    # Phone lost: a recovery code logs in once.
    log_in(tab, "ida@uni.example", codes[0])
    expect(tab.locator("h1")).to_contain_text("Welcome, Ida Invigilator")
    tab.get_by_role("button", name="Log out").click()
    log_in(tab, "ida@uni.example", codes[0])
    expect(tab.locator("#error")).to_contain_text("not valid")


def test_keyboard_only_login(tab, installation):
    email = "admin@uni.example"
    tab.goto("/login")
    tab.keyboard.press("Tab")  # the first stop is the skip link
    assert tab.evaluate("document.activeElement.textContent") == "Skip to main content"
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.id") == "email"
    tab.keyboard.type(email)
    tab.keyboard.press("Tab")
    tab.keyboard.type(PASSWORD)
    tab.keyboard.press("Enter")
    expect(tab.locator("h1")).to_contain_text("Your code")
    assert tab.evaluate("document.activeElement.id") == "code"  # focus waits in the code field
    tab.keyboard.type(code_for(totp_secret(email)))
    tab.keyboard.press("Enter")
    expect(tab.locator("h1")).to_contain_text("Welcome, Admin")


def test_unlock_the_key_in_the_browser_and_forget_it_on_logout(tab, installation):
    give_key(installation, "reviewer")
    log_in(tab, "reviewer@uni.example", code_for(totp_secret("reviewer@uni.example")))
    tab.get_by_role("link", name="Unlock your key").click()
    expect(tab.locator("h1")).to_contain_text("Unlock your key")
    # Enabled only once unlock.js listens: before, Enter would send the passphrase in the address.
    expect(tab.get_by_role("button", name="Unlock")).to_be_enabled()
    tab.get_by_label("Key passphrase").fill("not my passphrase")
    tab.get_by_label("Key passphrase").press("Enter")
    expect(tab.locator("#key-status")).to_contain_text("does not unlock", timeout=20_000)
    tab.get_by_label("Key passphrase").fill(KEY_PASSPHRASE)
    tab.get_by_role("button", name="Unlock").click()
    expect(tab.locator("#key-status")).to_contain_text("is unlocked in this browser", timeout=20_000)
    assert tab.evaluate("window.invigilKeyring.has('staff')")
    assert tab.input_value("#passphrase") == ""
    tab.get_by_role("button", name="Lock again").click()
    expect(tab.locator("#key-status")).to_contain_text("locked")
    assert not tab.evaluate("window.invigilKeyring.has('staff')")
    assert not any(KEY_PASSPHRASE.replace(" ", "+") in s or KEY_PASSPHRASE in s for s in tab.sent)
    tab.get_by_role("button", name="Log out").click()
    expect(tab.locator("h1")).to_contain_text("Log in")
