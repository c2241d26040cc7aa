"""The README is the operator's manual: the two commands come first, every setting is documented."""

from __future__ import annotations

from pathlib import Path

from invigil.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_first_lines_give_the_two_commands():
    head = "\n".join(README.splitlines()[:8])
    assert "make demo" in head
    assert "make test" in head


def test_every_setting_is_documented():
    names = [f"INVIGIL_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if name not in README]
    assert missing == []
