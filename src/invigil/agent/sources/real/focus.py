"""Whether the exam window has the focus: ``focus.lost`` when another window takes it,
``focus.regained`` when the exam window has it back. The events carry no window titles.

X11: ``xdotool getactivewindow`` (the window manager's active window), or, without a window manager,
``getwindowfocus`` (the X input focus); tested under Xvfb. Windows (``ctypes`` user32) and macOS
(``osascript``) paths are untested.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from invigil.agent.sources.real._tools import on_x11, run
from invigil.kit.clock import iso, utcnow


def active_window_title() -> str | None:
    """The title of the window that has the focus, or None when it cannot be told."""
    if on_x11():
        for args in (("getactivewindow", "getwindowname"), ("getwindowfocus", "getwindowname")):
            out = run("xdotool", *args, timeout=2.0)
            if out is not None:
                return out.rstrip("\n")
        return None
    if sys.platform == "win32":  # untested
        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        hwnd = user32.GetForegroundWindow()
        buf = ctypes.create_unicode_buffer(512)
        user32.GetWindowTextW(hwnd, buf, 512)
        return buf.value
    if sys.platform == "darwin":  # untested: the frontmost application's name, not a window title
        out = run(
            "osascript",
            "-e",
            'tell application "System Events" to get name of first process whose frontmost is true',
        )
        return out.strip() if out is not None else None
    return None


def focus_events(had_focus: bool | None, has_focus: bool) -> list[dict[str, Any]]:
    """The event for a change of focus; nothing at the start when the exam window has it."""
    if had_focus == has_focus or (had_focus is None and has_focus):
        return []
    return [{"type": "focus.regained" if has_focus else "focus.lost", "at": iso(utcnow())}]


class Focus:
    """Event source: polls the focused window and compares its title with the exam window's."""

    kind = "focus"

    def __init__(self, exam_window: str, title: Callable[[], str | None] = active_window_title) -> None:
        self.exam_window = exam_window.lower()
        self._title = title
        self._had: bool | None = None

    def poll(self) -> list[dict[str, Any]]:
        title = self._title()
        if title is None:  # no way to tell this time: no event rather than a false one
            return []
        has = self.exam_window in title.lower()
        events = focus_events(self._had, has)
        self._had = has
        return events
