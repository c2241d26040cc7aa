from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from invigil.analysis import activity, registry
from invigil.analysis.activity import ActivityEvent

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def snapshot(*procs: dict[str, str]) -> dict[str, object]:
    return {"taken_at": T0.isoformat(), "processes": [{"pid": 1, "name": "systemd"}, *procs]}


@pytest.mark.parametrize(
    ("pattern", "proc", "where"),
    [
        ("discord", {"name": "Discord.exe"}, "name"),
        ("discord", {"name": "electron", "path": "C:\\Apps\\Discord\\discord.exe"}, "path"),
        ("chatgpt", {"name": "firefox", "title": "ChatGPT - Mozilla Firefox"}, "title"),
        ("*gpt*", {"name": "firefox", "title": "ChatGPT"}, "title"),
        ("tele*", {"name": "telegram-desktop"}, "name"),
        ("code", {"name": "codeblocks"}, None),  # a plain word is a whole name, not a prefix
        ("discord", {"name": "firefox", "title": "Exam answers"}, None),
        ("", {"name": "anything"}, None),
    ],
)
def test_forbidden_list_matches_name_path_or_title(
    pattern: str, proc: dict[str, str], where: str | None
) -> None:
    assert activity.matches_program(pattern, proc) == where


def test_forbidden_processes_reports_every_match_with_the_item() -> None:
    snap = snapshot({"name": "discord"}, {"name": "firefox", "title": "ChatGPT"}, {"name": "evince"})
    found = activity.forbidden_processes(snap, ["Discord", "chatgpt"], item="item-0001")
    assert len(found) == 1
    d = found[0]
    assert d.behaviour == "process.forbidden"
    assert d.evidence == ("item-0001",)
    assert d.data["matches"] == [{"pattern": "Discord", "on": "name"}, {"pattern": "chatgpt", "on": "title"}]
    assert "firefox" not in str(d.data)  # what ran stays in the sealed snapshot
    assert activity.forbidden_processes(snap, [], item="x") == []
    assert activity.forbidden_processes(snapshot({"name": "evince"}), ["discord"]) == []


def test_remote_desktop_and_vm_signs_in_process_lists() -> None:
    found = activity.environment_from_processes(snapshot({"name": "AnyDesk.exe"}, {"name": "VBoxService"}))
    assert {d.behaviour for d in found} == {"environment.remote_desktop", "environment.virtual_machine"}
    assert activity.environment_from_processes(snapshot({"name": "firefox"})) == []


def test_browser_history_outside_allowed_sites_reports_hosts_only() -> None:
    history = {
        "taken_at": T0.isoformat(),
        "visits": [
            {"url": "https://moodle.uni.example/course/1", "at": at(1).isoformat()},
            {"url": "https://docs.python.org/3/", "at": at(2).isoformat()},
            {"url": "https://chat.openai.com/c/secret-path?q=answer", "at": at(3).isoformat()},
            {"url": "https://evil-uni.example/", "at": at(4).isoformat()},
            {"url": "about:blank", "at": at(5).isoformat()},
        ],
    }
    found = activity.browser_outside_allowed(history, ["*.uni.example", "https://docs.python.org/"], "h1")
    assert [d.start for d in found] == [at(3), at(4)]
    assert [d.evidence for d in found] == [("h1",), ("h1",)]
    assert "openai" not in json.dumps([d.data for d in found])  # the site stays in the sealed history


def test_event_spans_pair_and_close_at_the_end() -> None:
    events = [
        ActivityEvent("focus.lost", at(10), {"app": "firefox"}),
        ActivityEvent("focus.regained", at(40)),
        ActivityEvent("focus.regained", at(41)),  # a stray close is ignored
        ActivityEvent("focus.lost", at(100)),
        ActivityEvent("input.idle", at(200)),
        ActivityEvent("input.active", at(600)),
        ActivityEvent("storage.inserted", at(300), {"label": "KINGSTON", "bus": "usb"}),
        ActivityEvent("display.changed", at(50), {"monitors": 2}),
        ActivityEvent("display.changed", at(70), {"monitors": 2}),
        ActivityEvent("display.changed", at(90), {"monitors": 1}),
        ActivityEvent("environment.checked", at(0), {"virtual_machine": True, "vm_signs": ["hypervisor"]}),
        ActivityEvent("environment.checked", at(1), {"virtual_machine": False, "remote_desktop": False}),
    ]
    found = activity.from_events(events, [(at(500), at(620)), (at(700), None)], end=at(800))
    spans = sorted((d.behaviour, (d.start - T0).seconds, (d.end - T0).seconds) for d in found)
    assert spans == [
        ("activity.idle", 200, 600),
        ("display.extra_monitor", 50, 90),
        ("environment.virtual_machine", 0, 0),
        ("focus.left", 10, 40),
        ("focus.left", 100, 800),
        ("network.offline", 500, 620),
        ("network.offline", 700, 800),
        ("storage.removable", 300, 800),
    ]
    focus = next(d for d in found if d.behaviour == "focus.left")
    assert focus.data == {}  # the other window's name is not the server's business


def test_registry_runs_activity_analysers_and_skips_unknown_kinds() -> None:
    data = json.dumps(snapshot({"name": "discord"})).encode()
    capture = registry.Capture("process_snapshot", "p1", T0, forbidden=("discord",))
    assert [d.behaviour for d in registry.analyse(data, capture)] == ["process.forbidden"]
    assert registry.analyse(b"\x89PNG", registry.Capture("screenshot", "s1", T0)) == []
    # A malformed capture is logged and skipped, never fatal.
    assert registry.analyse(b"not json", capture) == []
    assert "process_snapshot" in registry.kinds()
