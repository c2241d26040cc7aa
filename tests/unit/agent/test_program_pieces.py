"""The small rules of the candidate's program that need no server: the clocks it shows, which files a
hand-in of the folder takes, where a code's spool lives, the receipt's text."""

from __future__ import annotations

from datetime import timedelta

from invigil.agent.program import code_key, folder_name, handin_candidates
from invigil.agent.screens import Screen, countdown, exam_clock, receipt_text
from invigil.kit.clock import utcnow


def test_countdown_reads_naturally():
    now = utcnow()
    assert countdown(now + timedelta(seconds=75), now) == "1:15"
    assert countdown(now + timedelta(hours=2, minutes=5, seconds=9), now) == "2 h 05 min"
    assert countdown(now - timedelta(seconds=5), now) == "0:00"  # over: never negative
    assert countdown(None, now) == ""


def test_exam_clock_before_during_and_after():
    now = utcnow()
    s = Screen(
        step="recording", exam_starts_at=now + timedelta(minutes=10), exam_ends_at=now + timedelta(hours=1)
    )
    assert exam_clock(s, now) == ("The exam starts in", "10:00")
    assert exam_clock(s, now + timedelta(minutes=30)) == ("Time left", "30:00")
    tail = Screen(step="handed_in", tail_ends_at=now + timedelta(minutes=15), exam_ends_at=now)
    assert exam_clock(tail, now) == ("Recording stops by itself in", "15:00")


def test_hand_in_of_the_folder_takes_its_visible_files_only(tmp_path):
    (tmp_path / "answer.odt").write_bytes(b"x")
    (tmp_path / "notes.txt").write_bytes(b"y")
    (tmp_path / ".~lock.answer.odt#").write_bytes(b"lock")  # an editor's lock file
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "draft.txt").write_bytes(b"z")
    assert [p.name for p in handin_candidates(tmp_path)] == ["answer.odt", "notes.txt"]
    assert handin_candidates(tmp_path / "missing") == []


def test_a_code_has_one_spool_however_it_is_typed():
    assert code_key("ABCD-EFGH-JKMN-PQRS") == code_key(" abcd efgh jkmn pqrs ")
    assert code_key("ABCD-EFGH-JKMN-PQRS") != code_key("ABCD-EFGH-JKMN-PQRT")


def test_folder_names_are_safe():
    assert folder_name("Algorithms 2026: final/retake") == "Algorithms 2026 finalretake"
    assert folder_name("../..") == "exam"


def test_receipt_text_has_link_secret_and_files():
    s = Screen(
        exam_title="Algorithms",
        receipt={
            "body": {"handed_in_at": "2026-06-01T10:00:00Z", "files": [{}]},
            "portal_url": "https://x/me/t",
        },
        receipt_secret="ABCD-EFGH",
        handed_files=("answer.odt",),
    )
    text = receipt_text(s)
    assert "Handed in: 2026-06-01 10:00:00 UTC" in text
    assert "Files: answer.odt" in text
    assert "https://x/me/t" in text
    assert "ABCD-EFGH" in text
    assert "keep it safe" in text
