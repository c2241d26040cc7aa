"""The portal's translations table is complete: every message in all four languages with the same
placeholders, every word the page and portal.js use is in it, and every behaviour, outcome, role,
logged action and evidence kind the report can hold has its words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from invigil.accounts.models import Role
from invigil.analysis.base import BEHAVIOURS
from invigil.portal import texts
from invigil.portal.report import READS
from invigil.privacy.texts import LANGUAGES
from invigil.protocol.policy import EVIDENCE_KINDS
from invigil.review.service import Outcome

WEB = Path(texts.__file__).parents[1] / "web"


@pytest.mark.parametrize("key", sorted(texts.M))
def test_every_message_has_four_languages_with_the_same_placeholders(key):
    message = texts.M[key]
    assert set(message) == set(LANGUAGES)
    assert all(text.strip() for text in message.values())
    english = texts.placeholders(message["en"])
    assert all(texts.placeholders(text) == english for text in message.values()), message


def test_the_page_and_the_script_use_only_words_from_the_table():
    used = set()
    for name in ("portal.html", "portal_deleted.html", "portal_not_found.html", "candidate_base.html"):
        used |= set(re.findall(r"\bt\.(\w+)", (WEB / "templates" / name).read_text()))
    assert used
    assert used <= set(texts.M), used - set(texts.M)
    script = set(re.findall(r"\bt\.(\w+)", (WEB / "static" / "portal.js").read_text()))
    assert script
    assert script <= set(texts.JS), script - set(texts.JS)
    opener = (WEB / "static" / "export-opener.html").read_text()
    marked = set(re.findall(r"@@(\w+)@@", opener)) - {"lang"}
    words = set(re.findall(r"\bT\.(\w+)", opener))
    assert marked
    assert words
    assert marked | words <= set(texts.OPENER), (marked | words) - set(texts.OPENER)


def test_everything_the_report_can_hold_has_words():
    needed = (
        [f"b_{b}" for b in BEHAVIOURS]
        + [f"outcome_{o.value}" for o in Outcome]
        + [f"who_{r.value}" for r in Role]
        + [f"act_{a}" for a in READS]
        + [f"kind_{k}" for k in EVIDENCE_KINDS]
        + [f"severity_{s}" for s in ("green", "yellow", "red")]
    )
    assert [k for k in needed if k not in texts.M] == []


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        ("da", "de-DE,de;q=0.9", "da"),
        (None, "de-DE,de;q=0.9", "de"),
        (None, "fr-FR, sv;q=0.8", "sv"),
        ("xx", "fr", "en"),
        (None, None, "en"),
    ],
)
def test_the_language_is_the_switch_then_the_browser_then_english(query, header, expected):
    assert texts.language_of(query, header) == expected
