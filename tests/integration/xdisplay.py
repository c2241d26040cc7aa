"""A real X display for the agent's desktop tests: Xvfb on a free display number, and Tk windows
shown on it by separate processes. Missing tools skip loudly, except in CI where they are required."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

from tests.seaweed import in_ci

WINDOW = textwrap.dedent(
    """
    import sys, tkinter as tk
    title, geometry, text = sys.argv[1:4]
    root = tk.Tk()
    root.title(title)
    root.geometry(geometry)
    root.configure(bg="#ff00ff")
    tk.Label(root, text=text, bg="#ff00ff", fg="#000000", font=("Helvetica", 24, "bold")).pack(pady=60)
    if len(sys.argv) > 4:
        root.clipboard_clear()
        root.clipboard_append(sys.argv[4])
    root.update()
    print('ready', flush=True)
    root.mainloop()
    """
)


def unavailable(why: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"desktop tests are required in CI (make setup installs them): {why}", pytrace=False)
    pytest.skip(
        f"DESKTOP TESTS NOT RUN: {why} (make setup installs them: xvfb xdotool x11-utils x11-xserver-utils)"
    )


def need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not installed")


@contextmanager
def xvfb(*screen: str) -> Iterator[str]:
    """Start Xvfb (``-screen 0 1280x800x24`` unless told), answer its DISPLAY, stop it afterwards."""
    need("Xvfb")
    read, write = os.pipe()
    args = [
        "Xvfb",
        "-displayfd",
        str(write),
        "-nolisten",
        "tcp",
        "-noreset",  # no server reset when the last client leaves: the next one would find no display
        *(screen or ("-screen", "0", "1280x800x24")),
    ]
    proc = subprocess.Popen(args, pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.stderr else ""
            unavailable(f"Xvfb did not start: {err}")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


class Window:
    """A Tk window with known text on a magenta background, in its own process."""

    def __init__(self, display: str, title: str, geometry: str, text: str = "", clipboard: str = "") -> None:
        need("xdotool")
        env = {**os.environ, "DISPLAY": display}
        args = [sys.executable, "-c", WINDOW, title, geometry, text or title]
        if clipboard:
            args.append(clipboard)
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line:
            self.close()
            pytest.fail(f"the Tk window did not open: {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.pid = self.proc.pid
        # The X window that carries the title, as a window manager would see it (xdotool, xprop).
        found = subprocess.run(
            ["xdotool", "search", "--name", f"^{title}$"], env=env, capture_output=True, text=True, timeout=10
        ).stdout.split()
        if len(found) != 1:
            self.close()
            pytest.fail(f"expected one window titled {title!r}, found {found}")
        self.frame = int(found[0])

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
