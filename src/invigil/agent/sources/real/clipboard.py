"""Clearing the clipboard at the start and at the end of the exam, when the policy asks for it.
Nothing is ever read from the clipboard, recorded or sent: only that it was cleared, or could not be.

Tk's clipboard first (X11 tested under Xvfb; Windows and macOS untested): the agent takes the
clipboard over with nothing in it and lets go, so there is nothing left to paste. Where Tk is missing,
``xsel`` or ``xclip`` on X11 (untested here).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from typing import Any

from invigil.agent.sources.real._tools import on_x11, run
from invigil.kit.clock import iso, utcnow

log = logging.getLogger("invigil.agent")


def clear_clipboard() -> bool:
    """Empty the clipboard; True when it was done."""
    if _clear_with_tk():
        return True
    if on_x11() and shutil.which("xsel"):
        return (
            run("xsel", "--clipboard", "--clear") is not None
            and run("xsel", "--primary", "--clear") is not None
        )
    if on_x11() and (xclip := shutil.which("xclip")):
        # xclip stays in the background to serve the (empty) selection: no pipes to wait on.
        done = [
            subprocess.run(  # noqa: S603 - a fixed tool and fixed arguments, no shell
                [xclip, "-selection", which, "-i", "/dev/null"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=3,
                check=False,
            ).returncode
            for which in ("clipboard", "primary")
        ]
        return done == [0, 0]
    return False


# Run in a process of its own that exits at once: the clipboard is taken over with nothing in it, and
# when the process's X connection closes the clipboard has no owner at all. Done in the agent's own
# process, Tk would keep owning it without answering, and other programs would hang when pasting.
_TK_CLEAR = """
import tkinter
root = tkinter.Tk()
root.withdraw()
root.clipboard_clear()  # CLIPBOARD: now ours, and empty
root.selection_own()  # PRIMARY (selected text, middle-click paste): ours, with nothing in it
root.update()
"""


def _clear_with_tk() -> bool:
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and our own code, no shell
            [sys.executable, "-c", _TK_CLEAR], capture_output=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not clear the clipboard: %s", exc)
        return False
    if done.returncode != 0:
        log.warning("could not clear the clipboard: %s", done.stderr.decode(errors="replace")[-300:])
        return False
    return True


class ClipboardClearer:
    """Event-less source: clears at the start (poll) and at the end (finish). It reports nothing but
    a log line; the candidate was told in the privacy notice that the clipboard would be cleared."""

    kind = "clipboard"

    def poll(self) -> list[dict[str, Any]]:
        self._clear("start")
        return []

    def finish(self) -> list[dict[str, Any]]:
        self._clear("end")
        return []

    def _clear(self, when: str) -> None:
        ok = clear_clipboard()
        log.info(
            "clipboard %s at the %s of the exam (%s)", "cleared" if ok else "NOT cleared", when, iso(utcnow())
        )
