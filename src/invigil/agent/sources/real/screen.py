"""Screenshots of every monitor with ``mss``: one PNG, monitors side by side as the desktop lays them
out, downscaled to the agent's maximum width. Also counts monitors for ``display.changed`` events."""

from __future__ import annotations

import io
from typing import Any

from invigil.kit.clock import iso, utcnow


class Screen:
    """``screenshot`` evidence: the whole desktop (all monitors) or the primary monitor only."""

    kind = "screenshot"

    def __init__(self, max_width: int = 1280, all_monitors: bool = True) -> None:
        self.max_width, self.all_monitors = max_width, all_monitors
        self.monitors = 0  # known after the first capture

    def capture(self) -> bytes:
        from PIL import Image

        # A fresh connection each time: captures run on the runtime's worker threads, and an X
        # connection belongs to the thread that opened it.
        with _mss() as sct:
            monitors = sct.monitors
            self.monitors = count_monitors(monitors)
            area = monitors[0] if self.all_monitors or len(monitors) < 2 else primary(monitors)
            shot = sct.grab(area)
        img = Image.frombytes("RGB", shot.size, shot.bgra, "raw", "BGRX")
        return encode_png(downscale(img, self.max_width))


def _mss() -> Any:
    import mss  # imported here so that the server never needs it

    return mss.MSS()


def count_monitors(monitors: list[dict[str, Any]]) -> int:
    """``mss`` lists the whole desktop first, then each monitor."""
    return max(1, len(monitors) - 1)


def primary(monitors: list[dict[str, Any]]) -> dict[str, Any]:
    """The primary monitor, or the first one when none says it is."""
    return next((m for m in monitors[1:] if m.get("is_primary")), monitors[1])


def downscale(img: Any, max_width: int) -> Any:
    if img.width <= max_width:
        return img
    height = max(1, round(img.height * max_width / img.width))
    return img.resize((max_width, height))


def encode_png(img: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def display_events(previous: int | None, now: int) -> list[dict[str, Any]]:
    """``display.changed`` when the number of monitors is first known or changes."""
    if previous == now:
        return []
    return [{"type": "display.changed", "at": iso(utcnow()), "data": {"monitors": now}}]


class Displays:
    """Event source: how many monitors are connected, reported when it changes."""

    kind = "display"

    def __init__(self) -> None:
        self._known: int | None = None

    def poll(self) -> list[dict[str, Any]]:
        with _mss() as sct:
            now = count_monitors(sct.monitors)
        events = display_events(self._known, now)
        self._known = now
        return events
