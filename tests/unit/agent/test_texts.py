"""The candidate program's translations table is complete: every message in all four languages with
the same placeholders, every key the program's files use is in it, none is unused, and no English
sentence for the candidate is left in those files."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path
from typing import get_args

import pytest

from invigil.agent import checks, texts
from invigil.agent.screens import (
    INSTRUCTED,
    RECORDING_NAMES,
    Screen,
    Step,
    countdown,
    exam_clock,
    receipt_text,
)
from invigil.kit.clock import utcnow
from invigil.privacy.texts import LANGUAGES

AGENT = Path(texts.__file__).parent
FILES = ("program.py", "screens.py", "checks.py", "window.py", "headless.py")
KEY_FILES = (*FILES, "../cli/main.py")  # the command line says "use --headless" in the language too
STEPS = get_args(Step)


@pytest.mark.parametrize("key", sorted(texts.M))
def test_every_message_has_four_languages_with_the_same_placeholders(key):
    message = texts.M[key]
    assert set(message) == set(LANGUAGES)
    assert all(text.strip() for text in message.values())
    english = texts.placeholders(message["en"])
    assert all(texts.placeholders(text) == english for text in message.values()), message


def used_keys() -> set[str]:
    """Keys named literally (t(lang, "key"), self.t("key"), self._t("key"), PROMPTS values) and the
    keys the files build from a prefix (heading_<step>, instruction_<step>, status_<status>,
    answer_<word>, letter_<what>, check names and recording names)."""
    used: set[str] = set()
    for name in KEY_FILES:
        tree = ast.parse((AGENT / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):  # t(lang, "key"), or a view's self.t("key") / self._t("key")
                func = node.func
                at = 1 if isinstance(func, ast.Name) and func.id == "t" else 0
                if isinstance(func, ast.Attribute) and func.attr not in ("t", "_t"):
                    continue
                if isinstance(func, ast.Name) and func.id != "t":
                    continue
                # a key, or a choice of two ("a" if … else "b"); f"heading_{…}" keys are added below
                if len(node.args) > at and not isinstance(node.args[at], ast.JoinedStr):
                    for part in ast.walk(node.args[at]):
                        if isinstance(part, ast.Constant) and isinstance(part.value, str):
                            used.add(part.value)
    from invigil.agent.headless import PROMPTS

    used |= set(PROMPTS.values())
    used |= {f"heading_{s}" for s in STEPS} | {f"instruction_{s}" for s in INSTRUCTED}
    used |= {f"status_{s}" for s in ("pass", "warn", "fail")}
    used |= {f"answer_{w}" for w in ("yes", "no")}
    used |= {f"letter_{w}" for w in ("handin", "time", "again", "continue")}
    used |= set(RECORDING_NAMES.values())
    return used


def test_every_key_used_exists_and_none_is_unused():
    used = used_keys()
    assert used - set(texts.M) == set()
    assert set(texts.M) - used == set()


def test_no_english_sentence_for_the_candidate_is_left_in_the_program():
    """String constants in the program's files that look like words for a person (a capital letter
    and a space, or a sentence's end): only docstrings, log lines, fonts and styles remain."""
    allowed = re.compile(
        r"^(DejaVu Sans( Mono)?"  # fonts
        r"|the agent program failed|could not save the receipt: %s"  # the log, for staff
        r"|still at "  # wait_for's timeout, for tests
        r"|test mode"  # drawn on the sample sources' generated screenshots
        r"|the server sent no Date header"  # the clock check shows only the error's type
        r"|.*::msgcat::.*)$"  # Tcl: Tk's own dialogs in the candidate's language
    )
    found = []
    for name in FILES:
        tree = ast.parse((AGENT / name).read_text())
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
            and isinstance(n.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
                if re.search(r"[A-Za-z]{2,} [a-z]{2,}", text) and not allowed.match(text):
                    found.append((name, text))
    assert found == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_checks_speak_the_language(lang, tmp_path):
    missing = checks.camera(None, lang)
    assert missing.name == texts.t(lang, "check_camera")
    assert missing.found == texts.t(lang, "camera_missing")
    assert missing.fix == texts.t(lang, "camera_missing_fix")
    assert checks.disk(tmp_path, lang).name == texts.t(lang, "check_disk")


def test_the_screen_words_follow_the_language():
    now = utcnow()
    s = Screen(
        step="recording", lang="de", exam_ends_at=now + timedelta(hours=2, minutes=5), recording=("Webcam",)
    )
    assert exam_clock(s, now) == ("Verbleibende Zeit", "2 Std. 05 Min.")
    assert s.recording_line == "Aufzeichnung: Webcam"
    assert countdown(now + timedelta(hours=1), now, "da") == "1 t. 00 min."
    receipt = receipt_text(
        Screen(
            lang="da",
            exam_title="Statistik",
            receipt={"body": {"handed_in_at": "2026-11-22T10:00:00Z"}, "portal_url": "https://x/me/abc"},
            receipt_secret="SECRET",
            handed_files=("svar.pdf",),
        )
    )
    assert receipt.startswith("Invigil-afleveringskvittering — Statistik\nAfleveret: 2026-11-22 10:00:00 UTC")
    assert "Filer: svar.pdf" in receipt
    assert "Koden fra din kvittering" in receipt


def test_numbers_are_grouped_as_each_language_writes_them():
    assert [texts.number(12345, lang) for lang in LANGUAGES] == ["12,345", "12.345", "12.345", "12\u00a0345"]


def test_the_language_is_one_of_ours_else_english():
    assert [texts.lang_of(x) for x in ("da-DK", "de", "sv_SE", "fr-FR", "", "C")] == [
        "da",
        "de",
        "sv",
        "en",
        "en",
        "en",
    ]
