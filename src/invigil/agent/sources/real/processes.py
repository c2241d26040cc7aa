"""Process-list snapshots with ``psutil``, in the format the detectors read (analysis/activity.py):
``{"taken_at", "processes": [{"pid", "name", "path"?, "title"?}]}``.

Window titles come from X11 (``xdotool`` lists the visible windows, ``xprop`` gives each one's
``_NET_WM_PID`` and name): only windows whose program says which process it is get a title.
Windows and macOS have no title lookup here (untested platforms: names and paths only).
No command lines, no user names, no open files: a program's name, its file and its window title.
"""

from __future__ import annotations

import json
import re
from typing import Any

from invigil.agent.sources.real._tools import on_x11, run
from invigil.kit.clock import iso, utcnow

MAX_WINDOWS = 300
MAX_TITLE = 200
_PID = re.compile(r"^_NET_WM_PID\(CARDINAL\) = (\d+)", re.M)
_NAME = re.compile(r'^(?:_NET_WM_NAME\(UTF8_STRING\)|WM_NAME\([A-Z_]+\)) = "(.*)"$', re.M)


def window_titles() -> dict[int, str]:
    """pid -> the title of one of its visible windows (X11 only; empty elsewhere or without tools)."""
    if not on_x11():
        return {}
    listed = run("xdotool", "search", "--onlyvisible", "--name", ".")
    titles: dict[int, str] = {}
    for wid in (listed or "").split()[:MAX_WINDOWS]:
        if not wid.isdigit():
            continue
        props = run("xprop", "-id", wid, "_NET_WM_PID", "_NET_WM_NAME", "WM_NAME", timeout=1.0)
        if not props:
            continue
        pid, name = _PID.search(props), _NAME.search(props)
        if pid and name and name.group(1):
            titles.setdefault(int(pid.group(1)), name.group(1)[:MAX_TITLE])
    return titles


def snapshot(titles: dict[int, str] | None = None) -> dict[str, Any]:
    import psutil

    titles = window_titles() if titles is None else titles
    procs: list[dict[str, Any]] = []
    for p in psutil.process_iter(["pid", "name", "exe"]):
        info = p.info
        entry: dict[str, Any] = {"pid": info["pid"], "name": info.get("name") or ""}
        if info.get("exe"):  # None for other users' processes and kernel threads
            entry["path"] = info["exe"]
        if info["pid"] in titles:
            entry["title"] = titles[info["pid"]]
        procs.append(entry)
    return {"taken_at": iso(utcnow()), "processes": procs}


class Processes:
    """``process_snapshot`` evidence."""

    kind = "process_snapshot"

    def capture(self) -> bytes:
        return json.dumps(snapshot(), ensure_ascii=False).encode()
