"""The privacy notice: generated from the policy, the same in four languages, versioned by content."""

from __future__ import annotations

import string
from types import SimpleNamespace
from typing import Any

import pytest

from invigil.exams.privacy_cost import CATALOGUE
from invigil.privacy import notice
from invigil.privacy.texts import LANGUAGES, TEXTS


def exam(policy: dict[str, Any], retention: dict[str, Any] | None = None) -> Any:
    return SimpleNamespace(
        id="e1", title="Algorithms", policy=policy, retention=retention or {}, region="eu-north"
    )


INSTITUTION = SimpleNamespace(
    name="Aarhus Universitet",
    privacy={"legal_basis": "GDPR Art. 6(1)(e)"},
    dpo_contact="dpo@au.dk",
    region="eu-north",
)
FULL = {
    "screenshots": {"enabled": True},
    "webcam": {"enabled": True},
    "microphone": {"enabled": True},
    "process_snapshots": {"enabled": True},
    "browser_history": {"enabled": True},
    "handin_folder_backup": {"enabled": True},
    "removable_storage": {"mode": "record"},
    "clipboard": {"clear_at_start_and_end": True},
    "room_scan": {"enabled": True},
    "id_check": {"enabled": True},
    "face_verification": {"enabled": True},
}


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_says_everything_with_the_same_placeholders(lang: str) -> None:
    english, other = flatten(TEXTS["en"]), flatten(TEXTS[lang])
    assert set(other) == set(english)
    for key, text in english.items():
        assert fields(other[key]) == fields(text), (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_full_policy_renders_every_source_in_every_language(lang: str) -> None:
    rendered = notice.render(notice.facts(exam(FULL), INSTITUTION), lang)
    what = next(s for s in rendered["sections"] if s["heading"] == TEXTS[lang]["h_what"])
    assert len(what["items"]) == len(CATALOGUE) + 1  # every source, and what is always recorded
    assert "{" not in notice.markdown(rendered)  # every placeholder filled


def test_only_what_is_switched_on_is_listed() -> None:
    f = notice.facts(exam({"screenshots": {"enabled": True}}), INSTITUTION)
    assert [source for source, _ in f["collected"]] == ["screenshots"]
    text = notice.markdown(notice.render(f, "en"))
    assert "camera" not in text.split("## How long")[0]
    assert "at random moments every 60–180 seconds" in text


def test_the_version_follows_the_content() -> None:
    base = notice.version(notice.facts(exam(FULL), INSTITUTION))
    assert base == notice.version(notice.facts(exam(FULL), INSTITUTION))
    assert base != notice.version(
        notice.facts(
            exam({**FULL, "webcam": {"enabled": True, "mode": "clips", "clip_seconds": 5}}), INSTITUTION
        )
    )
    assert base != notice.version(notice.facts(exam(FULL, {"webcam": 30}), INSTITUTION))
    other = SimpleNamespace(**{**vars(INSTITUTION), "dpo_contact": "privacy@au.dk"})
    assert base != notice.version(notice.facts(exam(FULL), other))
    # The language does not change the version: one acknowledgement, whatever language was read.
    f = notice.facts(exam(FULL), INSTITUTION)
    assert {notice.render(f, lang)["version"] for lang in LANGUAGES} == {base}


@pytest.mark.parametrize(
    ("wanted", "lang"),
    [
        ("da-DK,da;q=0.9,en;q=0.8", "da"),
        ("de", "de"),
        ("fr-FR,sv;q=0.5", "sv"),
        ("fr", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_language_from_accept_language(wanted: str | None, lang: str) -> None:
    assert notice.language(wanted) == lang


def test_missing_controller_details_are_said_plainly() -> None:
    bare = SimpleNamespace(name="Uni", privacy={}, dpo_contact="", region="eu")
    text = notice.markdown(notice.render(notice.facts(exam(FULL), bare), "en"))
    assert "not yet stated by the institution" in text
