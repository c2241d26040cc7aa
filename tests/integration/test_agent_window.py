"""The candidate's window (agent/window.py) on a real X server (Xvfb), driven with real key presses
(xdotool) through the whole flow against a real server with the sample sources: wrong code, the
notice, the system check, the recording indicator, hand-in, the receipt, the tail, the stop.

Screenshots of the notice, the recording and the receipt go to $INVIGIL_SCREENSHOT_DIR when set
(`INVIGIL_SCREENSHOT_DIR=docs/screenshots` refreshes the documentation's), else to the test's folder.
"""

from __future__ import annotations

import gc
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from invigil.agent.program import ROOM_SCAN_FRAMES, SAMPLE_LABEL, Options, Program, sample_sources
from tests.factories import FULL_POLICY, make_exam
from tests.seaweed import in_ci

pytestmark = pytest.mark.slow

XVFB = Path("/usr/bin/Xvfb")
XDOTOOL = Path("/usr/bin/xdotool")


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A private X server for the session (Tk keeps its connection to a display until the process
    ends, so the server must outlive every window); skips loudly without Xvfb, fails in CI."""
    missing = [str(p) for p in (XVFB, XDOTOOL) if not p.exists()]
    if missing:
        why = f"WINDOW TESTS NOT RUN: {', '.join(missing)} missing (apt-get install xvfb xdotool)"
        if in_ci():
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    read, write = os.pipe()
    proc = subprocess.Popen(
        [str(XVFB), "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as fd:
        number = fd.readline().strip()  # Xvfb writes its display number here once it is ready
    assert number, "Xvfb did not start"
    name = f":{number}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DISPLAY", name)
        try:
            yield name
        finally:
            proc.terminate()
            proc.wait(10)


def xdotool(*args: str) -> None:
    subprocess.run([str(XDOTOOL), *args], check=True, timeout=30)


class Driver:
    def __init__(self, window, display: str, shots: Path) -> None:
        self.w, self.display, self.shots = window, display, shots

    def pump(self, until: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.w.root.update()
            if until():
                for _ in range(5):  # let the new screen draw completely
                    self.w.root.update()
                    time.sleep(0.02)
                return
            time.sleep(0.03)
        s = self.w.program.screen
        raise AssertionError(f"waited for {what or until}: still at {s.step} {s.busy!r} {s.message!r}")

    def at(self, step: str, timeout: float = 60.0) -> None:
        program = self.w.program
        self.pump(
            lambda: (
                program.screen.step == step
                and not program.screen.busy
                and self.w.shown == program.screen.serial
            ),
            timeout,
            step,
        )

    def key(self, name: str) -> None:
        self.w.root.update()
        xdotool("key", "--clearmodifiers", name)
        self.pump(lambda: True)

    def type(self, text: str) -> None:
        self.w.root.update()
        xdotool("type", "--delay", "15", text)
        self.pump(lambda: True)

    def screenshot(self, name: str, *windows) -> Path:
        from PIL import ImageGrab

        self.pump(lambda: True)
        time.sleep(0.2)
        self.w.root.update()
        boxes = [
            (
                t.winfo_rootx(),
                t.winfo_rooty(),
                t.winfo_rootx() + t.winfo_width(),
                t.winfo_rooty() + t.winfo_height(),
            )
            for t in windows or (self.w.root,)
        ]
        box = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        image = ImageGrab.grab(xdisplay=self.display).crop(box)
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / name
        image.save(path)
        return path


@pytest.fixture
def open_window(display: str, tmp_path: Path) -> Iterator[Callable[..., tuple[Program, Any, Driver]]]:
    """A window on a program with the sample sources. Torn down after the test has returned, in this
    (Tk's own) thread: a Tcl interpreter that another thread's garbage collection finds later ends
    the whole process."""
    from invigil.agent.window import Window

    opened: list[tuple[Program, Any]] = []
    shots = Path(os.environ.get("INVIGIL_SCREENSHOT_DIR") or tmp_path / "shots")

    def open_(server_url: str, language: str = "en") -> tuple[Program, Any, Driver]:
        program = Program(
            Options(server=server_url, home=tmp_path / "home", language=language),
            make_sources=sample_sources,
            label=SAMPLE_LABEL,
        )
        w = Window(program)
        opened.append((program, w))
        program.start()
        w.poll()
        return program, w, Driver(w, display, shots)

    yield open_
    for program, w in opened:
        program.quit()
        w.root.destroy()
    opened.clear()
    gc.collect()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the view is the subject here
def test_window_through_the_whole_flow(open_window, server, installation):
    exam = make_exam(installation, n=1)
    program, w, d = open_window(server.url)
    d.at("connect")
    assert w.server_entry.get() == server.url
    assert w.badge.cget("text") == SAMPLE_LABEL  # the candidate sees that nothing real is recorded
    w.root.focus_force()
    w.code_entry.focus_force()
    d.pump(lambda: w.root.focus_get() is w.code_entry, what="focus in the code field")
    d.type("ABCD-EFGH-JKMN-PQRS")  # a wrong code, typed on the (virtual) keyboard
    d.key("Return")
    d.pump(lambda: "not valid" in w.message.cget("text"), what="the wrong-code message")
    d.screenshot("agent-wrong-code.png")
    w.code_entry.delete(0, "end")
    d.type(exam.codes[0].lower())  # case does not matter
    d.key("Return")

    d.at("notice")
    assert w.indicator.state() == "withdrawn"  # nothing is recorded while the notice is read
    assert str(w.root.focus_get()).endswith("button2")  # the focus is on "I accept"
    notice_png = d.screenshot("agent-notice.png")
    d.key("Return")

    d.at("checks")
    assert w._images, "the camera's test picture is shown"
    d.screenshot("agent-checks.png")
    d.key("Return")

    d.at("recording")
    d.pump(lambda: w.indicator.state() == "normal", what="the recording indicator")
    assert w.indicator_text.cget("text").startswith("Recording: screen, webcam")
    assert w.indicator.attributes("-topmost")
    handin_dir = Path(program.screen.handin_dir)
    (handin_dir / "answer.txt").write_text("My answers.\n")
    recording_png = d.screenshot("agent-recording.png", w.root, w.indicator)
    d.key("Return")
    d.at("confirm_handin")
    d.key("Escape")  # Escape goes back
    d.at("recording")
    d.key("Return")
    d.at("confirm_handin")
    d.key("Return")

    d.at("handed_in")
    assert w.indicator.state() == "normal"  # the tail still records, and says so
    assert "Recording stops by itself in" in w.indicator_text.cget("text")
    receipt = program.screen.receipt
    assert receipt is not None
    shown = next(c for c in w.body.winfo_children() if c.winfo_class() == "Text").get("1.0", "end")
    assert receipt["portal_url"] in shown
    assert program.screen.receipt_secret in shown
    receipt_png = d.screenshot("agent-receipt.png")

    d.at("stopped", timeout=60)
    assert w.indicator.state() == "withdrawn"
    texts = [c.cget("text") for c in w.body.winfo_children() if c.winfo_class() == "TLabel"]
    assert "Recording has stopped. You may close this window." in texts
    from PIL import Image

    for png in (notice_png, recording_png, receipt_png):
        with Image.open(png) as image:
            assert image.width > 500
            assert len(image.convert("L").getcolors(65536) or []) > 20  # drawn text, not an empty frame


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_window_id_photo_and_room_scan_by_keyboard(open_window, server, installation, monkeypatch):
    from invigil.agent import program as program_module

    monkeypatch.setattr(program_module, "ROOM_SCAN_EVERY", 0.05)
    policy = {**FULL_POLICY, "id_check": {"enabled": True}, "room_scan": {"enabled": True}}
    exam = make_exam(installation, n=1, policy=policy)
    program, w, d = open_window(server.url)
    d.at("connect")
    w.root.focus_force()
    w.code_entry.focus_force()
    d.pump(lambda: w.root.focus_get() is w.code_entry, what="focus in the code field")
    d.type(exam.codes[0])
    d.key("Return")
    d.at("notice")
    d.key("Return")
    d.at("checks")
    d.key("Return")
    d.at("id_photo")
    assert w.indicator.state() == "normal"  # recording has begun: the indicator says so
    d.key("Return")  # take the photo
    d.pump(lambda: program.screen.photos == 1 and not program.screen.busy, what="the photo")
    d.at("id_photo")
    assert w._images, "the photo is shown"
    d.screenshot("agent-id-photo.png")
    d.key("Return")  # continue
    d.at("room_scan")
    d.key("Return")  # start the scan
    d.pump(lambda: program.screen.photos == ROOM_SCAN_FRAMES and not program.screen.busy, what="scan")
    d.at("room_scan")
    d.key("Return")
    d.at("recording")


def clipped(w) -> list[str]:
    """Labels and buttons of the window drawn narrower than they ask to be, or past the window's
    right edge: words that do not fit. Labels wrap (wraplength), so long words make them taller, not
    wider; a button does not wrap, so a row of long ones would be squeezed. (Frames and the notice's
    text box, which wraps by itself, are not words.)"""
    right = w.root.winfo_rootx() + w.root.winfo_width()
    found, todo = [], list(w.root.winfo_children())
    while todo:
        widget = todo.pop()
        todo += widget.winfo_children()
        if widget.winfo_toplevel() is not w.root or not widget.winfo_ismapped():
            continue
        text = str(widget.cget("text")) if "text" in (widget.configure() or {}) else ""
        if text.strip() and (
            widget.winfo_width() < widget.winfo_reqwidth()
            or widget.winfo_rootx() + widget.winfo_width() > right
        ):
            found.append(
                f"{widget.winfo_class()} {text!r}: {widget.winfo_width()} < {widget.winfo_reqwidth()}"
            )
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_window_in_german(open_window, server, installation):
    """Options.language "de": every word of the window and the indicator in German, and the longer
    German words wrap instead of being cut off. Screenshot: agent-recording-de.png."""
    exam = make_exam(installation, n=1)
    program, w, d = open_window(server.url, "de")
    d.at("connect")
    assert w.badge.cget("text") == "Beispielquellen (Testmodus)"
    assert w.root.tk.eval("namespace eval ::tk {::msgcat::mc &No}") == "&Nein"  # Tk's close dialog
    labels = [c.cget("text") for c in w.body.winfo_children() if c.winfo_class() == "TLabel"]
    assert "Prüfung beginnen" in labels
    assert clipped(w) == []
    program.connect(server.url, exam.codes[0])
    d.at("notice")
    assert clipped(w) == []
    d.key("Return")  # "Ich stimme zu — weiter"
    d.at("checks")
    names = [c.name for c in program.screen.checks]
    assert names == ["Kamera", "Bildschirmaufnahme", "Freier Speicherplatz", "Uhr"]
    assert w.message.cget("text") == "Ihr Computer ist bereit."
    assert clipped(w) == []
    d.key("Return")  # "Prüfung starten"
    d.at("recording")
    d.pump(lambda: w.indicator.state() == "normal", what="the recording indicator")
    assert w.indicator.title() == "Invigil zeichnet auf"
    assert w.indicator_text.cget("text").startswith("Aufzeichnung: Bildschirm, Webcam, laufende Programme")
    assert "Verbleibende Zeit" in w.indicator_text.cget("text")
    labels = [c.cget("text") for c in w.body.winfo_children() if c.winfo_class() == "TLabel"]
    assert "Ihre Prüfung läuft" in labels
    assert "Verbleibende Zeit" in labels
    assert any(text.startswith("Ihr Abgabeordner: ") for text in labels)
    buttons = [
        b.cget("text")
        for row in w.body.winfo_children()
        for b in row.winfo_children()
        if b.winfo_class() == "TButton"
    ]
    assert buttons == ["Dateien auswählen …", "Meinen Ordner abgeben"]
    assert clipped(w) == []
    png = d.screenshot("agent-recording-de.png", w.root, w.indicator)
    from PIL import Image

    with Image.open(png) as image:
        assert image.width > 500
        assert len(image.convert("L").getcolors(65536) or []) > 20  # drawn text, not an empty frame
