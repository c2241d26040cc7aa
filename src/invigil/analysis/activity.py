"""Computer-activity detectors: pure functions over plaintext facts, run by the agent and the worker.

Inputs are what the agent captures (docs/protocol.md, "Activity events"):
- process snapshots: ``{"taken_at", "processes": [{"pid", "name", "path"?, "title"?}, ...]}``
- browser history: ``{"taken_at", "visits": [{"url", "at"}, ...]}``
- agent events (``ActivityEvent``): ``focus.lost``/``focus.regained``,
  ``storage.inserted``/``storage.removed``, ``display.changed``,
  ``input.idle``/``input.active``, ``environment.checked``
- the session's offline periods, as the server recorded them.

No I/O, no database. Each function returns ``Detection``s; the exam's rules decide what becomes a flag.
A detection's ``data`` is server-readable (it travels as an event, and becomes the flag's facts), so
it carries nothing taken from sealed evidence: only the policy's own patterns, our fixed lists of
known programs, counts and times. What was actually running or visited stays in the sealed item the
detection links to, for a reviewer to open.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from invigil.analysis.base import Detection

# Programs whose presence signals remote control or screen sharing, and virtual-machine guest tools.
REMOTE_DESKTOP_PROGRAMS = (
    "teamviewer",
    "teamviewer_service",
    "anydesk",
    "rustdesk",
    "x11vnc",
    "vncserver",
    "winvnc",
    "tvnserver",
    "rdpclip",
    "remoting_host",
    "chrome-remote-desktop-host",
    "parsecd",
    "splashtop",
)
VIRTUAL_MACHINE_PROGRAMS = ("vboxservice", "vboxtray", "vboxclient", "vmtoolsd", "qemu-ga", "prl_tools")


@dataclass(frozen=True)
class ActivityEvent:
    """The part of an agent event the detectors read."""

    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    id: str = ""


def _parse_time(text: Any) -> datetime:
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("times need a time zone offset")
    return value


def _stem(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name.removesuffix(".exe")


def matches_program(pattern: str, process: dict[str, Any]) -> str | None:
    """Which field of ``process`` the forbidden-list ``pattern`` matches: "name", "path", "title" or None.

    Case is ignored. A plain word matches a program name (".exe" ignored), the file name at the end
    of its path, or appears in its window title; ``*`` and ``?`` make it a pattern over each field.
    """
    pat = pattern.strip().lower()
    if not pat:
        return None
    name, path, title = (str(process.get(k) or "").lower() for k in ("name", "path", "title"))
    if any(ch in pat for ch in "*?["):
        for where, value in (("name", name), ("path", path), ("title", title)):
            if value and fnmatch.fnmatchcase(value, pat):
                return where
        return None
    if name and _stem(name) == _stem(pat):
        return "name"
    if path and _stem(path) == _stem(pat):
        return "path"
    if title and pat in title:
        return "title"
    return None


def load_json(data: bytes) -> dict[str, Any]:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("expected a JSON object")
    return doc


def forbidden_processes(
    snapshot: dict[str, Any], forbidden: Sequence[str], item: str = ""
) -> list[Detection]:
    """``process.forbidden``: one detection at the snapshot's time naming the patterns that matched."""
    if not forbidden:
        return []
    at = _parse_time(snapshot["taken_at"])
    found = []
    for proc in snapshot.get("processes", []):
        for pattern in forbidden:
            where = matches_program(pattern, proc)
            if where:
                match = {"pattern": pattern[:64], "on": where}
                if match not in found:
                    found.append(match)
                break
    if not found:
        return []
    return [Detection("process.forbidden", 1.0, at, at, (item,) if item else (), {"matches": found[:20]})]


def _known_programs(snapshot: dict[str, Any], names: Sequence[str]) -> list[str]:
    seen = []
    for proc in snapshot.get("processes", []):
        stem = _stem(str(proc.get("name", "")))
        if stem in names and stem not in seen:
            seen.append(stem)
    return seen


def environment_from_processes(snapshot: dict[str, Any], item: str = "") -> list[Detection]:
    """Remote-desktop and virtual-machine signs among running programs."""
    at = _parse_time(snapshot["taken_at"])
    ev = (item,) if item else ()
    out = []
    remote = _known_programs(snapshot, REMOTE_DESKTOP_PROGRAMS)
    if remote:
        out.append(Detection("environment.remote_desktop", 0.9, at, at, ev, {"programs": remote}))
    vm = _known_programs(snapshot, VIRTUAL_MACHINE_PROGRAMS)
    if vm:
        out.append(Detection("environment.virtual_machine", 0.8, at, at, ev, {"programs": vm}))
    return out


def site_allowed(host: str, allowed: Sequence[str]) -> bool:
    """A host is allowed when it is an allowed site or a subdomain of one (``*.`` prefixes are accepted)."""
    host = host.lower().rstrip(".")
    for site in allowed:
        site = site.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
        site = site.removeprefix("*.").rstrip(".")
        if site and (host == site or host.endswith("." + site)):
            return True
    return False


def _host(url: str) -> str:
    return (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()


def browser_outside_allowed(
    history: dict[str, Any], allowed: Sequence[str], item: str = ""
) -> list[Detection]:
    """``browser.outside_allowed``: one detection per visit to a site outside the list. The site
    itself stays in the sealed history the detection links to."""
    out = []
    for visit in history.get("visits", []):
        url = str(visit.get("url", ""))
        if url.startswith(("about:", "chrome:", "file:", "moz-extension:", "chrome-extension:")):
            continue
        host = _host(url)
        if not host or site_allowed(host, allowed):
            continue
        at = _parse_time(visit.get("at") or history["taken_at"])
        out.append(Detection("browser.outside_allowed", 1.0, at, at, (item,) if item else (), {}))
    return out


def _spans(
    events: Iterable[ActivityEvent], opens: str, closes: str, end: datetime
) -> list[tuple[ActivityEvent, datetime]]:
    """Pair each ``opens`` event with the next ``closes`` event (or ``end`` when none came)."""
    spans: list[tuple[ActivityEvent, datetime]] = []
    current: ActivityEvent | None = None
    for ev in sorted(events, key=lambda e: e.at):
        if ev.type == opens and current is None:
            current = ev
        elif ev.type == closes and current is not None:
            spans.append((current, max(ev.at, current.at)))
            current = None
    if current is not None:
        spans.append((current, max(end, current.at)))
    return spans


def _from_spans(
    behaviour: str, spans: list[tuple[ActivityEvent, datetime]], keys: Sequence[str] = ()
) -> list[Detection]:
    return [
        Detection(behaviour, 1.0, ev.at, until, (), {k: ev.data[k] for k in keys if k in ev.data})
        for ev, until in spans
    ]


def focus_left(events: Sequence[ActivityEvent], end: datetime) -> list[Detection]:
    return _from_spans("focus.left", _spans(events, "focus.lost", "focus.regained", end))


def idle(events: Sequence[ActivityEvent], end: datetime) -> list[Detection]:
    return _from_spans("activity.idle", _spans(events, "input.idle", "input.active", end))


def removable_storage(events: Sequence[ActivityEvent], end: datetime) -> list[Detection]:
    return _from_spans(
        "storage.removable", _spans(events, "storage.inserted", "storage.removed", end), ("bus",)
    )


def extra_monitor(events: Sequence[ActivityEvent], end: datetime) -> list[Detection]:
    """``display.changed`` with ``monitors`` > 1 opens a span; a change back to one closes it."""
    marked = [
        ActivityEvent(
            "display.extra" if int(e.data.get("monitors", 1)) > 1 else "display.single", e.at, e.data, e.id
        )
        for e in events
        if e.type == "display.changed"
    ]
    return _from_spans(
        "display.extra_monitor", _spans(marked, "display.extra", "display.single", end), ("monitors",)
    )


def environment(events: Sequence[ActivityEvent]) -> list[Detection]:
    """``environment.checked`` events carry the agent's own checks (hypervisor flags, remote sessions)."""
    out = []
    for e in events:
        if e.type != "environment.checked":
            continue
        if e.data.get("virtual_machine"):
            out.append(
                Detection(
                    "environment.virtual_machine", 0.8, e.at, e.at, (), {"signs": e.data.get("vm_signs", [])}
                )
            )
        if e.data.get("remote_desktop"):
            out.append(
                Detection(
                    "environment.remote_desktop",
                    0.9,
                    e.at,
                    e.at,
                    (),
                    {"signs": e.data.get("remote_signs", [])},
                )
            )
    return out


def offline(periods: Sequence[tuple[datetime, datetime | None]], end: datetime) -> list[Detection]:
    """``network.offline`` from the server's offline periods; an open period lasts until ``end``."""
    return [
        Detection("network.offline", 1.0, start, max(stop or end, start), (), {}) for start, stop in periods
    ]


def from_events(
    events: Sequence[ActivityEvent],
    offline_periods: Sequence[tuple[datetime, datetime | None]],
    end: datetime,
) -> list[Detection]:
    """Every event-based activity detector at once (what the worker runs for a session)."""
    return [
        *focus_left(events, end),
        *idle(events, end),
        *removable_storage(events, end),
        *extra_monitor(events, end),
        *environment(events),
        *offline(offline_periods, end),
    ]
