"""Running the desktop's own small tools (xdotool, xprop, xclip) without a shell, briefly."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

log = logging.getLogger("invigil.agent")


def on_x11() -> bool:
    return sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY"))


def run(*args: str, timeout: float = 3.0, stdin: bytes | None = None) -> str | None:
    """The tool's standard output, or None when it is missing, fails or hangs."""
    exe = shutil.which(args[0])
    if exe is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed tool names from our code, no shell, no candidate input
            [exe, *args[1:]], input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("%s failed: %s", args[0], exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace")
