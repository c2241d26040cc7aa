"""`invigil agent --headless`: the candidate's program in a terminal. It shows the program's screens
as text and turns typed lines into the same actions the window's buttons call (agent/program.py);
it holds no rule of its own."""

from __future__ import annotations

import queue
import shlex
import threading
from pathlib import Path
from typing import TextIO

from invigil.agent.program import ROOM_SCAN_FRAMES, Program
from invigil.agent.screens import Screen, exam_clock, heading, instruction, receipt_text, status_word
from invigil.agent.texts import number, t
from invigil.privacy.notice import markdown

# The steps whose prompt is a plain message (the others are put together in ``prompt``).
PROMPTS = {"notice": "prompt_notice", "pin": "prompt_pin", "confirm_handin": "prompt_confirm_handin"}


class Terminal:
    def __init__(self, program: Program, stdin: TextIO, out: TextIO) -> None:
        self.program, self.out = program, out
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._stdin = stdin
        self._server_typed: str | None = None

    def t(self, key: str, **params: object) -> str:
        """A message in the candidate's language, with the yes/no words and letters it may name."""
        lang = self.program.screen.lang
        words = {k: t(lang, f"answer_{k}") for k in ("yes", "no")}
        letters = {k: t(lang, f"letter_{k}") for k in ("handin", "time", "again", "continue")}
        fill: dict[str, object] = {**words, **letters, "go": letters["continue"]}
        return t(lang, key, **{**fill, **params})  # str.format ignores the names a message lacks

    def said(self, answer: str, word: str) -> bool:
        """Whether ``answer`` is yes/no (``word``) in English or the candidate's language, or a
        letter of it."""
        local = t(self.program.screen.lang, f"answer_{word}")
        return answer in (word, word[0], local, local[0])

    def letter(self, answer: str, what: str) -> bool:
        """Whether ``answer`` starts with the English or the local letter for ``what``."""
        letters = {t("en", f"letter_{what}"), t(self.program.screen.lang, f"letter_{what}")}
        return answer[:1] in letters

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str) -> None:
        print(prompt, end="", file=self.out, flush=True)

    def _read(self) -> None:
        for line in self._stdin:
            self.lines.put(line.rstrip("\r\n"))
        self.lines.put(None)

    def run(self) -> int:
        threading.Thread(target=self._read, name="stdin", daemon=True).start()
        shown = -1
        screen = self.program.screen
        while True:
            if screen.serial != shown:
                shown = screen.serial
                self.show(screen)
                if screen.finished:
                    return 0 if screen.step == "stopped" else 1 if screen.step == "failed" else 2
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                screen = self.program.screen
                continue
            if line is None:  # stdin closed: a running exam carries on until it stops by itself
                if screen.step in ("connect", "notice", "checks", "pin", "id_photo", "room_scan"):
                    self.say(self.t("no_more_input"))
                    return 1
                self.lines = queue.Queue()
                screen = self.program.wait(screen.serial)
                continue
            self.act(self.program.screen, line.strip())
            screen = self.program.wait(shown, timeout=0.5)

    # -- showing ---------------------------------------------------------------------------------
    def show(self, s: Screen) -> None:
        if s.busy:
            self.say(f"… {s.busy}")
            return
        self.say()
        self.say(f"== {heading(s)} ==" + (f"  [{s.test_mode}]" if s.test_mode else ""))
        if s.recording and s.step != "recording":
            self.say(f"● {s.recording_line}")
        if s.step == "notice" and s.notice:
            self.say(instruction(s))
            self.say()
            self.say(markdown(s.notice))
        elif s.step == "checks":
            for c in s.checks:
                self.say(f"  [{status_word(s, c.status):>7}] {c.name}: {c.found}")
                if c.fix and c.status != "pass":
                    self.say("            " + self.t("what_to_do", fix=c.fix))
        elif s.step == "recording":
            self.say(f"● {s.recording_line}")
            self.say("{}: {}".format(*exam_clock(s)))
            self.say(self.t("handin_folder", folder=s.handin_dir))
            if s.assignment_files:
                files = ", ".join(s.assignment_files)
                self.say(self.t("assignment_files", files=files, folder=s.assignment_dir))
        elif s.step == "confirm_handin":
            for name, size in s.handin_files:
                self.say(f"  {name}  ({self.t('file_size', size=number(size, s.lang))})")
        elif s.step in ("handed_in", "stopped") and s.receipt:
            self.say(receipt_text(s))
            if s.receipt_file:
                self.say(self.t("receipt_saved", path=s.receipt_file))
            if s.step == "handed_in":
                self.say("{}: {}".format(*exam_clock(s)))
        if instruction(s) and s.step != "notice":
            self.say(instruction(s))
        if s.message:
            self.say(s.message)
        self.prompt(s)

    def prompt(self, s: Screen) -> None:
        if s.step == "connect":
            self.ask(
                self.t("prompt_server", server=s.server)
                if self._server_typed is None
                else self.t("prompt_code")
            )
        elif s.step == "checks":
            self.ask(self.t("prompt_start") if s.can_continue else self.t("prompt_fix"))
        elif s.step == "id_photo":
            self.ask(self.t("prompt_another_photo") if s.photos else self.t("prompt_take_photo"))
        elif s.step == "room_scan":
            done = s.photos >= ROOM_SCAN_FRAMES
            self.ask(self.t("prompt_continue") if done else self.t("prompt_room_scan"))
        elif s.step == "recording":
            self.ask(self.t("prompt_recording"))
        elif s.step in PROMPTS:
            self.ask(self.t(PROMPTS[s.step]))

    # -- acting ----------------------------------------------------------------------------------
    def act(self, s: Screen, line: str) -> None:
        p, answer = self.program, line.lower()
        if s.step == "connect":
            if self._server_typed is None:
                self._server_typed = line or s.server
                self.prompt(s)
                return
            server, self._server_typed = self._server_typed, None
            p.connect(server, line)
        elif s.step == "notice":
            if self.said(answer, "yes"):
                p.accept_notice()
            elif self.said(answer, "no"):
                p.decline_notice()
            else:
                self.prompt(s)
        elif s.step == "checks":
            if s.can_continue and answer == "":
                p.continue_()
            else:
                p.check_again()
        elif s.step == "id_photo":
            if answer and self.letter(answer, "continue") and s.photos:
                p.continue_()
            else:
                p.take_photo()
        elif s.step == "room_scan":
            if s.photos >= ROOM_SCAN_FRAMES:
                p.continue_()
            else:
                p.scan_room()
        elif s.step == "pin":
            p.enter_pin(line)
        elif s.step == "recording":
            if answer and self.letter(answer, "handin"):
                files = [Path(f).expanduser() for f in shlex.split(line)[1:]]
                p.ask_handin(files or None)
            else:
                self.say("{}: {}".format(*exam_clock(s)))
                self.prompt(s)
        elif s.step == "confirm_handin":
            if self.said(answer, "yes"):
                p.confirm_handin()
            else:
                p.cancel_handin()
        elif s.step == "handed_in":
            self.say("{}: {}".format(*exam_clock(s)))


def run_headless(program: Program, stdin: TextIO, out: TextIO) -> int:
    """0 when recording stopped after the hand-in; 2 when the notice was declined; 1 otherwise."""
    try:
        return Terminal(program, stdin, out).run()
    finally:
        program.quit()
