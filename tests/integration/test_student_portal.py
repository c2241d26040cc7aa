"""The student portal page, /me/{receipt token}, over HTTP: each of the four languages (by ?lang= and
by Accept-Language), the same "not valid" page for any link that is not a receipt link, the page after
retention deleted everything, and "who opened your data" naming a reviewer by role, never by name.
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from invigil.analysis.base import Detection
from invigil.evidence.models import EvidenceItem
from invigil.exams import repository as exams_repo
from invigil.flags import service as flags
from invigil.kit.clock import utcnow
from invigil.portal import texts
from invigil.retention import engine
from invigil.review import service as review
from invigil.sessions.models import ExamSession
from invigil.web.security import PORTAL_CSP
from tests.factories import login, make_exam
from tests.integration.agentkit import activate

MINE, THEIRS = "m" * 40, "t" * 40


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def handed_in(http, server, installation):
    exam = make_exam(installation, n=2)
    agent, other = activate(http, exam.codes[0]), activate(http, exam.codes[1])
    items = {
        agent.upload("screenshot", b"\x89PNG my screen"),
        agent.upload("process_snapshot", b'{"processes": [{"name": "discord"}]}'),
    }
    handin = agent.upload("handin_file", b"my answers")
    items.add(handin)
    assert agent.handin([handin], portal=MINE).status_code == 200
    assert other.handin([other.upload("handin_file", b"theirs")], portal=THEIRS).status_code == 200
    c = installation.container
    with c.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        assert session is not None
        at = session.activated_at
        # A detection as the analysis worker records it, and the flags rebuilt from it.
        detection = Detection("process.forbidden", 1.0, at, at)
        flags.record(db, session.exam_id, session.id, "worker", [detection])
        flags.rebuild(db, exams_repo.get(db, session.exam_id), session.id)
    return {"agent": agent, "other": other, "items": items, "exam_id": exam.exam_id}


def page_text(r: httpx.Response) -> str:
    return html.unescape(r.text)


@pytest.mark.parametrize("lang", ["en", "da", "de", "sv"])
def test_each_language_has_its_lang_attribute_and_its_words(http, handed_in, lang):
    r = http.get(f"/me/{MINE}", params={"lang": lang})
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == PORTAL_CSP
    assert f'<html lang="{lang}">' in r.text
    text = page_text(r)
    t = texts.strings(lang)
    for key in ("title", "h_open", "h_recorded", "h_flags", "flags_explain", "h_access", "download_how"):
        assert t[key] in text, key
    assert t["b_process.forbidden"] in text  # the flag, in words
    assert "<script>" not in r.text  # the CSP allows no inline script: the words travel as data
    script = json.loads(html.unescape(re.search(r"data-portal='([^']*)'", r.text).group(1)))
    assert script["t"]["js_opened"] == t["js_opened"]
    assert {i["client_id"] for i in script["items"]} == handed_in["items"]
    others = {code for code in ("en", "da", "de", "sv") if code != lang}
    assert not any(texts.M["flags_explain"][o] in text for o in others)
    # The switch offers every language, each named in itself, the current one marked.
    for code, name in texts.LANGUAGE_NAMES.items():
        assert f'href="?lang={code}" lang="{code}"' in r.text
        assert name in text
    assert re.search(rf'href="\?lang={lang}"[^>]*aria-current="true"', r.text)


def test_the_browser_language_is_the_default_and_the_switch_wins(http, handed_in):
    de = http.get(f"/me/{MINE}", headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in de.text
    assert texts.M["title"]["de"] in page_text(de)
    sv = http.get(f"/me/{MINE}?lang=sv", headers={"Accept-Language": "de-AT,de;q=0.9"})
    assert '<html lang="sv">' in sv.text
    unknown = http.get(f"/me/{MINE}", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert '<html lang="en">' in unknown.text


def test_a_link_that_is_not_yours_is_simply_not_valid(http, handed_in):
    mine = page_text(http.get(f"/me/{MINE}"))
    theirs = http.get(f"/me/{THEIRS}")
    assert theirs.status_code == 200
    assert handed_in["agent"].session_id not in theirs.text
    assert not any(item in theirs.text for item in handed_in["items"])
    pseudonym = re.search(r"<code>([^<]+)</code></dd>", mine).group(1)
    assert pseudonym not in theirs.text
    # An unknown link and an absurd one: the same 404 page, in the chosen language, no hint.
    unknown = http.get(f"/me/{'q' * 40}?lang=da")
    absurd = http.get(f"/me/{'q' * 300}?lang=da")
    assert unknown.status_code == absurd.status_code == 404
    assert unknown.text == absurd.text
    assert '<html lang="da">' in unknown.text
    assert texts.M["not_found_title"]["da"] in page_text(unknown)
    assert unknown.headers["content-security-policy"] == PORTAL_CSP
    # Their link does not open my items either.
    mine_item = next(iter(handed_in["items"]))
    rows = http.get(f"/api/v1/portal/{MINE}").json()["items"]
    item_id = next(i["id"] for i in rows if i["client_id"] == mine_item)
    assert http.get(f"/api/v1/portal/{THEIRS}/items/{item_id}").status_code == 404


def test_the_access_log_shows_a_reviewer_by_role_and_the_students_own_views(
    http, server, handed_in, installation
):
    h = login(server.url, "reviewer")
    agent = handed_in["agent"]
    assert http.get(f"/api/v1/staff/sessions/{agent.session_id}/evidence", headers=h).status_code == 200
    with installation.container.uow() as db:
        session = db.get(ExamSession, agent.session_id)
        assert session is not None
        review.decide(
            db,
            session,
            installation.staff["reviewer"],
            "no_action",
            "Discord was closed, not used.",
            utcnow(),
        )
    r = http.get(f"/me/{MINE}")
    section = page_text(r).split('id="access"')[1].split("</section>")[0]
    rows = re.findall(r"<tr><td class=\"time\">([^<]+)</td><td>([^<]+)</td><td>([^<]+)", section)
    reviewer = [row for row in rows if row[1].startswith("Reviewer (ref. ")]
    assert reviewer, rows
    assert reviewer[0][2].strip() == texts.M["act_evidence.list"]["en"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", reviewer[0][0])
    assert ("You", texts.M["act_portal.list"]["en"]) in {(row[1], row[2].strip()) for row in rows}
    assert "reviewer@uni.example" not in r.text  # a role and a reference, never a name or address
    # The decision, in words; the reviewer's reason as they wrote it.
    text = page_text(r)
    assert texts.M["outcome_no_action"]["en"] in text
    assert "Discord was closed, not used." in text
    # In Danish too.
    da = page_text(http.get(f"/me/{MINE}?lang=da"))
    assert f"{texts.M['who_reviewer']['da']} (ref. " in da
    assert texts.M["act_evidence.list"]["da"] in da


def test_after_deletion_the_page_says_only_that_and_when(http, handed_in, installation):
    # Retention runs long after every period has ended: the real engine shreds and expires it all.
    later = utcnow() + timedelta(days=5000)
    assert engine.run(installation.container, later)
    doc = http.get(f"/api/v1/portal/{MINE}").json()
    assert doc["items"]
    assert all(i["status"] == "shredded" for i in doc["items"])
    for lang in ("en", "de"):
        r = http.get(f"/me/{MINE}", params={"lang": lang})
        assert r.status_code == 200
        assert f'<html lang="{lang}">' in r.text
        main = page_text(r).split('<main id="main" tabindex="-1">')[1].split("</main>")[0]
        day = later.astimezone(ZoneInfo("Europe/Copenhagen")).strftime("%Y-%m-%d")  # the exam's zone
        sentence = texts.M["deleted_text"][lang].format(date=day)
        assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", main)).strip() == (
            f"{texts.M['deleted_title'][lang]} {sentence}"
        )
        assert "portal.js" not in r.text
        assert not any(i["id"] in r.text for i in doc["items"])


def test_an_erased_recording_is_listed_as_deleted_and_the_rest_stays(http, handed_in, installation):
    rows = http.get(f"/api/v1/portal/{MINE}").json()["items"]
    shot = next(i for i in rows if i["kind"] == "screenshot")
    erased_at = utcnow()
    with installation.container.uow() as db:
        item = db.get(EvidenceItem, shot["id"])
        assert item is not None
        review.erase(db, item, installation.staff["reviewer"], "Shows another person's screen.", erased_at)
    r = http.get(f"/me/{MINE}?lang=sv")
    text = page_text(r)
    assert texts.M["h_recorded"]["sv"] in text  # the whole page, not the deletion page
    card = text.split(f'id="item-{shot["id"]}"')[1].split("</li>")[0]
    when = erased_at.astimezone(ZoneInfo("Europe/Copenhagen")).strftime("%Y-%m-%d %H:%M")
    assert texts.M["item_deleted"]["sv"].format(date=when) in card
    script = json.loads(html.unescape(re.search(r"data-portal='([^']*)'", r.text).group(1)))
    assert shot["id"] not in {i["id"] for i in script["items"]}  # nothing to open
    assert len(script["items"]) == len(rows) - 1
    assert texts.M["act_evidence.erase"]["sv"] in text  # and who did it, in the access log


def test_while_flags_are_kept_the_deleted_recordings_are_listed_on_the_whole_page(
    http, handed_in, installation
):
    """An exam whose recordings go after a day but whose flags stay ten years: after the first
    retention run the student still sees the flag, and every recording as deleted."""
    with installation.container.uow() as db:
        exam = exams_repo.get(db, handed_in["exam_id"])
        assert exam is not None
        short = dict.fromkeys(("webcam", "screen", "process_and_browser_logs", "handins"), 1)
        exam.retention = {**short, "flags_and_decisions": 3650}
    assert engine.run(installation.container, utcnow() + timedelta(days=30))
    doc = http.get(f"/api/v1/portal/{MINE}").json()
    assert all(i["status"] == "shredded" for i in doc["items"])
    assert doc["flags"]
    text = page_text(http.get(f"/me/{MINE}"))
    assert texts.M["deleted_title"]["en"] not in text
    assert texts.M["b_process.forbidden"]["en"] in text
    assert text.count('class="gone"') == len(doc["items"])
