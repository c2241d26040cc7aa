"""`invigil agent --headless` in a real process, answered line by line through its stdin against a
real server: the same steps as the window (agent/program.py), typed."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from invigil.sessions.models import ExamSession
from tests.factories import make_exam

pytestmark = pytest.mark.slow


class Terminal:
    """A program on a pipe: send lines, wait for text to appear (prompts end without a newline)."""

    def __init__(self, *args: str, home: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "invigil.cli.main", "agent", "--headless", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(home), "PYTHONUNBUFFERED": "1"},
        )
        self.out = ""
        self.seen = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            with self._lock:
                self.out += chunk.decode("utf-8", "replace")

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait for ``text`` after what was already matched; returns the output up to it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                at = self.out.find(text, self.seen)
                if at >= 0:
                    passed, self.seen = self.out[self.seen : at + len(text)], at + len(text)
                    return passed
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never came; the program said:\n{self.out[-3000:]}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def finish(self, timeout: float = 60) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def start(server, tmp_path: Path, *more: str) -> Terminal:
    return Terminal(
        *more,
        "--server",
        server.url,
        "--sample-sources",
        "--handin-dir",
        str(tmp_path / "handin"),
        "--spool",
        str(tmp_path / "spool"),
        home=tmp_path / "home",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the view is the subject here
def test_headless_from_code_to_stop(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    t = start(server, tmp_path)
    try:
        t.expect(f"Server address [{server.url}]: ")
        t.send("")  # keep the address given on the command line
        t.expect("Activation code: ")
        t.send("ABCD-EFGH-JKMN-PQRS")
        t.expect("This activation code is not valid.")
        t.expect("Server address [")
        t.send("")
        t.expect("Activation code: ")
        t.send(exam.codes[0])
        notice = t.expect("Type 'yes' to accept and continue, or 'no' to decline: ")
        assert "# Privacy notice: Test exam" in notice
        assert "sample sources (test mode)" in t.out  # visibly not a real recording
        t.send("yes")
        checks = t.expect("Press Enter to start the exam (recording starts)")
        assert "[     OK] Camera" in checks
        assert "[     OK] Clock" in checks
        t.send("")
        running = t.expect("Type 'h' to hand in")
        assert "● Recording: screen, webcam, running programs, hand-in folder" in running
        assert "Time left: 5" in running
        t.send("h")  # the folder is empty: said plainly, nothing handed in
        t.expect("is empty")
        (tmp_path / "handin" / "draft.txt").write_text("not this one\n")
        chosen = tmp_path / "my answer.txt"  # a chosen file instead of the folder
        chosen.write_text("My answers.\n")
        t.send(f"h '{chosen}'")
        listed = t.expect("Type 'yes' to hand in these files, or 'no' to go back: ")
        assert "my answer.txt  (12 bytes)" in listed
        assert "draft.txt" not in listed
        t.send("yes")
        receipt = t.expect("Recording has stopped. You may close this window.")
        assert "/me/" in receipt
        assert "Files: my answer.txt" in receipt
        assert "Your receipt secret" in receipt
        assert "Recording stops by itself in" in receipt
        assert t.finish() == 0
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
    with installation.container.uow() as db:
        state = db.scalar(select(ExamSession.state).where(ExamSession.id == exam.session_ids[0]))
    assert state == "closed"
    assert (tmp_path / "home" / "Invigil").exists() is False  # --handin-dir was used, not the default
    assert (tmp_path / "handin - receipt.txt").read_text().count("/me/") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_headless_in_danish(server, installation, tmp_path):
    """--language da: the notice, the check, the prompts, the indicator and the receipt in Danish,
    answered in Danish ('ja', 'a' for aflever); the receipt's words are the portal's."""
    exam = make_exam(installation, n=1)
    t = start(server, tmp_path, "--language", "da")
    try:
        t.expect(f"Serveradresse [{server.url}]: ")
        t.send("")
        t.expect("Aktiveringskode: ")
        t.send(exam.codes[0])
        notice = t.expect("Skriv 'ja' for at acceptere og fortsætte, eller 'nej' for at afvise: ")
        assert "== Før noget bliver optaget ==  [eksempelkilder (testtilstand)]" in notice
        assert "Intet bliver optaget, medmindre du accepterer." in notice
        assert "# Oplysning om behandling af personoplysninger: Test exam" in notice
        t.send("ja")
        checks = t.expect("Tryk på Enter for at starte eksamen (optagelsen starter)")
        assert "== Din computer bliver tjekket ==" in checks
        assert "[     OK] Kamera: Kameraet virker" in checks
        assert "[     OK] Ur: Dit ur stemmer med serverens." in checks
        assert "Din computer er klar." in checks
        (tmp_path / "handin" / "besvarelse.txt").write_text("Mine svar.\n")
        t.send("")
        running = t.expect("Skriv 'a' for at aflevere din afleveringsmappe")
        assert "● Optager: skærm, webkamera, kørende programmer, afleveringsmappe" in running
        assert "Tid tilbage: 5" in running
        assert "Din afleveringsmappe: " in running
        t.send("a")
        listed = t.expect("Skriv 'ja' for at aflevere disse filer, eller 'nej' for at gå tilbage: ")
        assert "besvarelse.txt  (11 byte)" in listed
        assert "Vil du aflevere disse filer? Du kan ikke ændre din aflevering bagefter." in listed
        t.send("ja")
        receipt = t.expect("Optagelsen er stoppet. Du kan nu lukke dette vindue.")
        assert "Invigil-afleveringskvittering — Test exam" in receipt
        assert "Filer: besvarelse.txt" in receipt
        assert "Koden fra din kvittering" in receipt
        assert "Afleveret. Gem denne kvittering" in receipt
        assert "Optagelsen stopper af sig selv om" in receipt
        assert "Recording" not in receipt
        assert t.finish() == 0
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
    saved = (tmp_path / "handin - receipt.txt").read_text()
    assert saved.startswith("Invigil-afleveringskvittering — Test exam")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_headless_decline_records_nothing(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    t = start(server, tmp_path)
    try:
        t.expect("Server address [")
        t.send("")
        t.expect("Activation code: ")
        t.send(exam.codes[0])
        t.expect("or 'no' to decline: ")
        t.send("no")
        t.expect("nothing has been recorded")
        assert t.finish() == 2
    finally:
        if t.proc.poll() is None:
            t.proc.kill()
    with installation.container.uow() as db:
        state = db.scalar(select(ExamSession.state).where(ExamSession.id == exam.session_ids[0]))
    assert state == "issued"
    assert not (tmp_path / "spool").exists()


def test_without_a_display_the_window_says_to_use_headless(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "invigil.cli.main", "agent", "--sample-sources"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if k != "DISPLAY"}, "HOME": str(tmp_path)},
    )
    assert r.returncode != 0
    assert "invigil agent --headless" in r.stderr
