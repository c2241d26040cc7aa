"""The student opens their own data on the receipt page, in real Chromium, with the receipt secret:
the server serves only ciphertext and never sees the secret."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from invigil.agent.sources.sample import SampleScreen
from invigil.kit.candidate_secret import BadSecret, private_from_secret, secret_from_private
from tests.factories import make_exam
from tests.integration.agentkit import activate

MARK = "PORTAL-MARKER-41c9"


def with_a_typo(secret: str) -> str:
    """The secret with its last symbol mistyped so that the check symbol catches it (one mistyped
    symbol in sixteen would pass the 4-bit check and open another key: not a typo to test with)."""
    for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
        typo = secret[:-1] + c
        if typo == secret:
            continue
        try:
            private_from_secret(typo)
        except BadSecret as exc:
            if "typo" in str(exc):
                return typo
    raise AssertionError("no typo found")


@pytest.fixture
def handed_in(server, installation) -> dict[str, Any]:
    exam = make_exam(installation, n=2)
    with httpx.Client(base_url=server.url, timeout=20) as http:
        a, b = activate(http, exam.codes[0]), activate(http, exam.codes[1])
        a.upload("screenshot", SampleScreen(label="portal", marker=MARK, size=(640, 400)).capture())
        a.upload("process_snapshot", json.dumps({"processes": [{"name": MARK + ".exe"}]}).encode())
        handin = a.upload("handin_file", f"My answers. {MARK}".encode())
        portal = "portal-token-" + "x" * 30
        assert a.handin([handin], portal=portal).status_code == 200
    return {"url": f"{server.url}/me/{portal}", "mine": a.candidate, "other": b.candidate}


def test_the_student_opens_their_data_in_the_browser(browser, handed_in, database_url):
    context = browser.new_context(viewport={"width": 900, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url + (r.post_data or "")))
    page.goto(handed_in["url"])
    secret = secret_from_private(handed_in["mine"])

    # Another student's secret, and a typo: clear messages, nothing opened.
    page.fill("input[name=secret]", secret_from_private(handed_in["other"]))
    page.click("text=Open my data")
    expect(page.locator("#status")).to_contain_text("another receipt")
    assert page.locator("#items .opened").count() == 0
    typo = with_a_typo(secret)
    page.fill("input[name=secret]", typo.lower())
    page.click("text=Open my data")
    expect(page.locator("#status")).to_contain_text(re.compile("typo|letters"))

    page.fill("input[name=secret]", secret.lower().replace("-", " "))  # typed sloppily
    page.click("text=Open my data")
    expect(page.locator("#status")).to_contain_text("Opened 3 of 3 item(s)", timeout=20_000)
    assert page.locator("#items img").count() == 1
    assert page.locator("#items .opened").count() == 3
    assert MARK in page.locator("#items").inner_text()  # the process list and the hand-in, decrypted
    size = page.locator("#items img").evaluate(
        "async img => { await img.decode(); return [img.naturalWidth, img.naturalHeight]; }"
    )
    assert size == [640, 400]  # the decrypted PNG, drawn by the browser
    assert page.input_value("input[name=secret]") == ""  # the field is emptied at once

    page.click("#close")
    assert page.locator("#items .opened").count() == 0
    assert page.locator("#items img").count() == 0
    assert not any(secret.replace("-", "") in s.replace("-", "").upper() for s in sent)
    assert not errors, errors
    context.close()


def test_the_export_opens_offline_in_the_browser(browser, handed_in, tmp_path):
    """The ZIP from the receipt page, unzipped, opened from file:// with no server at all."""
    import zipfile

    url = handed_in["url"].replace("/me/", "/api/v1/portal/") + "/export.zip"
    archive = tmp_path / "export.zip"
    archive.write_bytes(httpx.get(url, timeout=20).content)
    folder = tmp_path / "my-exam-data"
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url))
    page.goto((folder / "open.html").as_uri())
    page.set_input_files("#folder", str(folder))
    page.fill("#secret", secret_from_private(handed_in["other"]))
    page.click("#open")
    expect(page.locator("#status")).to_contain_text("another receipt")
    page.fill("#secret", secret_from_private(handed_in["mine"]))
    page.click("#open")
    expect(page.locator("#status")).to_contain_text("Opened 3 item(s)", timeout=20_000)
    assert MARK in page.locator("#items").inner_text()
    assert page.locator("#items img").count() == 1
    assert all(s.startswith("file:") or s.startswith("blob:") for s in sent), sent  # nothing leaves
    assert not errors, errors
    context.close()
