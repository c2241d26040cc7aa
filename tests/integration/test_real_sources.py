"""The real capture sources on real things: an X display (Xvfb) with Tk windows on it, real processes,
real video and speech from ../shared/media, real SQLite history databases, a real folder."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import namedtuple
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from invigil.agent.live import LivePass
from invigil.agent.runtime import policy_sources
from invigil.agent.sources import EventSource
from invigil.agent.sources.real import RealOptions, build_sources, problems
from invigil.agent.sources.real.browser_history import BrowserHistory
from invigil.agent.sources.real.clipboard import clear_clipboard
from invigil.agent.sources.real.focus import Focus
from invigil.agent.sources.real.handin_folder import HandinFolder
from invigil.agent.sources.real.microphone import WavMicrophone
from invigil.agent.sources.real.processes import Processes, snapshot, window_titles
from invigil.agent.sources.real.screen import Displays, Screen, count_monitors, display_events, primary
from invigil.agent.sources.real.system import (
    Environment,
    RemovableStorage,
    environment_check,
    remote_signs,
    removable_volumes,
    vm_signs,
)
from invigil.agent.sources.real.webcam import Camera, CameraUnavailable, WebcamClip, WebcamFrame
from invigil.analysis import activity
from invigil.kit.clock import utcnow
from invigil.protocol.policy import parse_policy
from tests.integration.xdisplay import Window, need, unavailable, xvfb

MAGENTA = (255, 0, 255)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with xvfb() as name:
        yield name


@pytest.fixture
def on_display(display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", display)
    return display


def _events(raw: list[dict]) -> list[activity.ActivityEvent]:
    return [
        activity.ActivityEvent(
            e["type"], datetime.fromisoformat(e["at"].replace("Z", "+00:00")), e.get("data", {})
        )
        for e in raw
    ]


# -- screen ------------------------------------------------------------------------------------------


def _image(png: bytes):
    from PIL import Image

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return Image.open(io.BytesIO(png)).convert("RGB")


def _share(img, box: tuple[int, int, int, int], colour: tuple[int, int, int]) -> float:
    import numpy as np

    region = np.asarray(img.crop(box))
    return float((region == colour).all(axis=2).mean())


def test_screenshot_is_the_real_screen_with_the_real_window(on_display):
    window = Window(on_display, "Invigil exam", "400x300+100+100", "INVIGIL 42")
    try:
        full = _image(Screen(max_width=1280).capture())
        small_source = Screen(max_width=640)
        small = _image(small_source.capture())
    finally:
        window.close()
    assert full.size == (1280, 800)
    # The window's background fills its rectangle; the rest of Xvfb's screen is black.
    assert _share(full, (110, 200, 490, 390), MAGENTA) > 0.95
    assert _share(full, (700, 500, 1200, 780), MAGENTA) == 0.0
    # Its text is there: dark pixels inside the window, in the label's rows near the top.
    import numpy as np

    label = np.asarray(full.crop((110, 110, 490, 200)))
    assert int((label.max(axis=2) < 80).sum()) > 200
    # Downscaled to the maximum width, proportions kept, the window where it was (halved).
    assert small.size == (640, 400)
    assert _share(small, (56, 100, 244, 194), MAGENTA) > 0.9
    assert small_source.monitors == 1


def test_monitor_count_and_display_events(on_display):
    displays = Displays()
    first = displays.poll()
    assert [(e["type"], e["data"]) for e in first] == [("display.changed", {"monitors": 1})]
    assert displays.poll() == []  # unchanged: nothing to say
    # A second monitor plugged in, for real as far as X is concerned: a RandR monitor added to the screen.
    need("xrandr")
    xrandr = ["xrandr", "--display", on_display]
    subprocess.run(
        [*xrandr, "--setmonitor", "SECOND", "640/170x400/106+640+0", "none"], check=True, timeout=10
    )
    try:
        plugged = displays.poll()
        shot = _image(Screen(max_width=1280).capture())
    finally:
        subprocess.run([*xrandr, "--delmonitor", "SECOND"], check=True, timeout=10)
    unplugged = displays.poll()
    assert [e["data"] for e in plugged] == [{"monitors": 2}]
    assert [e["data"] for e in unplugged] == [{"monitors": 1}]
    assert shot.size == (1280, 800)  # all monitors: the whole desktop
    found = activity.extra_monitor(_events([*first, *plugged, *unplugged]), utcnow())
    assert [(d.behaviour, d.data) for d in found] == [("display.extra_monitor", {"monitors": 2})]
    # mss lists the whole desktop first, then each monitor, the primary one marked.
    desktop = {"left": 0, "top": 0, "width": 2560, "height": 800}
    left, right = {**desktop, "width": 1280}, {**desktop, "left": 1280, "width": 1280, "is_primary": True}
    assert count_monitors([desktop, left, right]) == 2
    assert primary([desktop, left, right]) == right
    assert display_events(2, 2) == []


# -- webcam ------------------------------------------------------------------------------------------


@pytest.fixture
def video(media: Path) -> Path:
    path = media / "proctoring_ai" / "eye_tracking" / "center_focus.mp4"
    if not path.is_file():
        pytest.skip(f"{path} is missing from ../shared/media")
    return path


def test_webcam_frames_from_a_video_file_show_the_face(video):
    from invigil.analysis.vision import shared_analyzer

    camera = Camera(str(video))
    source = WebcamFrame(camera)
    frames = [source.capture() for _ in range(3)]
    camera.close()
    assert all(f[:3] == b"\xff\xd8\xff" for f in frames)  # JPEG
    assert len({*frames}) == 3  # successive frames of the video, not one picture again
    assert [shared_analyzer().analyze(f).n_faces for f in frames] == [1, 1, 1]


def test_webcam_clip_is_an_animated_webp_of_the_asked_length(video):
    """Animated WebP, which browsers play in an <img> (the review page and the portal show it)."""
    import io

    import cv2
    from PIL import Image

    source = cv2.VideoCapture(str(video))
    height, width = source.read()[1].shape[:2]
    source.release()
    clip = WebcamClip(Camera(str(video)), seconds=2).capture()
    image = Image.open(io.BytesIO(clip))
    assert image.format == "WEBP"
    assert image.n_frames == 20  # 2 s at 10 frames a second
    assert image.width == min(width, 320)
    assert abs(image.height - height * image.width / width) <= 1  # the camera's shape, scaled
    frames = []
    for i in (0, 10, 19):
        image.seek(i)
        frames.append(image.convert("RGB").tobytes())
        assert image.info["duration"] == 100  # ms per frame
    assert len(set(frames)) == 3  # moving pictures, not one frame repeated


def test_a_video_file_camera_starts_again_at_its_end(video):
    import cv2

    camera = Camera(str(video))
    probe = cv2.VideoCapture(str(video))
    length = int(probe.get(cv2.CAP_PROP_FRAME_COUNT))
    probe.release()
    frames = [camera.read() for _ in range(length + 1)]
    camera.close()
    assert (frames[-1] == frames[0]).all()  # the frame after the last one is the first again


def test_a_missing_camera_says_so():
    with pytest.raises(CameraUnavailable, match="does not exist"):
        Camera("/nonexistent/video.mp4").read()


# -- microphone --------------------------------------------------------------------------------------


@pytest.fixture
def speech(media: Path) -> Path:
    path = media / "vad_programy" / "speech" / "english1.wav"
    if not path.is_file():
        pytest.skip(f"{path} is missing from ../shared/media")
    return path


def test_microphone_clips_from_a_wav_give_speech_events_and_are_kept_only_when_recording(speech, media):
    detection = parse_policy({"microphone": {"enabled": True, "mode": "detection", "clip_seconds": 6}})
    recording = parse_policy({"microphone": {"enabled": True, "mode": "recording", "clip_seconds": 6}})
    mic = WavMicrophone(speech, 6)
    clip = mic.capture()
    assert clip[:4] == b"RIFF"
    assert len(clip) == 44 + 6 * 16_000 * 2
    events = LivePass(detection).events("audio_clip", clip, "", utcnow())
    assert events
    assert {e["type"] for e in events} == {"detection.voice.speech"}
    assert all(e["data"]["evidence"] == [] for e in events)  # nothing kept to point at
    assert not detection.collects("audio_clip")
    assert recording.collects("audio_clip")
    # A clip is the next part of the recording, not the same one again.
    assert mic.capture() != clip
    noise = media / "vad_programy" / "noise" / "white_noise-16.wav"
    if noise.is_file():
        quiet = WavMicrophone(noise, 6).capture()
        assert LivePass(detection).events("audio_clip", quiet, "", utcnow()) == []


def test_no_microphone_backend_is_said_plainly(tmp_path, monkeypatch):
    import invigil.agent.sources.real as real

    monkeypatch.setattr(real, "recording_backend", lambda: None)
    policy = parse_policy({"microphone": {"enabled": True}})
    options = RealOptions(handin_dir=tmp_path, exam_start=utcnow(), exam_end=utcnow(), camera=None)
    assert "audio_clip" not in build_sources(policy, options)
    assert any("no microphone backend" in p for p in problems(policy, options))


# -- processes ---------------------------------------------------------------------------------------


@pytest.fixture
def discord(tmp_path: Path) -> Iterator[subprocess.Popen]:
    """A real process named like a forbidden program: the sleep binary copied as 'discord'."""
    binary = tmp_path / "discord"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", binary)
    proc = subprocess.Popen([str(binary), "60"])
    yield proc
    proc.terminate()
    proc.wait()


def test_process_snapshot_sees_a_started_program_and_the_forbidden_rule_matches(discord):
    data = Processes().capture()
    doc = json.loads(data)
    mine = [p for p in doc["processes"] if p["pid"] == discord.pid]
    assert mine
    assert mine[0]["name"] == "discord"
    assert mine[0]["path"].endswith("/discord")
    assert set(mine[0]) <= {"pid", "name", "path", "title"}  # no command line, no user
    found = activity.forbidden_processes(activity.load_json(data), ["discord"], "item-1")
    assert [(d.behaviour, d.data) for d in found] == [
        ("process.forbidden", {"matches": [{"pattern": "discord", "on": "name"}]})
    ]
    live = LivePass(parse_policy({"process_snapshots": {"enabled": True, "forbidden": ["discord"]}}))
    assert [e["type"] for e in live.events("process_snapshot", data, "item-1", utcnow())] == [
        "detection.process.forbidden"
    ]


def test_process_snapshot_has_window_titles_on_x11(on_display):
    need("xdotool", "xprop")
    window = Window(on_display, "Discord - Friends", "300x200+50+50")
    try:
        # Tk does not say which process owns its window; desktop toolkits do, through _NET_WM_PID.
        subprocess.run(
            [
                "xprop",
                "-id",
                str(window.frame),
                "-f",
                "_NET_WM_PID",
                "32c",
                "-set",
                "_NET_WM_PID",
                str(window.pid),
            ],
            check=True,
            env={"DISPLAY": on_display, "PATH": "/usr/bin:/bin"},
        )
        assert window_titles() == {window.pid: "Discord - Friends"}
        doc = snapshot()
    finally:
        window.close()
    entry = next(p for p in doc["processes"] if p["pid"] == window.pid)
    assert entry["title"] == "Discord - Friends"
    assert activity.matches_program("discord", entry) == "title"


# -- focus -------------------------------------------------------------------------------------------


def test_focus_changes_under_x11(on_display):
    need("xdotool")
    exam = Window(on_display, "Invigil exam", "400x300+100+100")
    other = Window(on_display, "Chat", "300x200+700+100")
    focus = Focus("invigil")

    def give_focus(window: Window) -> None:
        subprocess.run(["xdotool", "windowfocus", "--sync", str(window.frame)], check=True, timeout=10)

    try:
        give_focus(exam)
        assert focus.poll() == []  # the exam window has it from the start: nothing to report
        give_focus(other)
        lost = focus.poll()
        assert focus.poll() == []
        give_focus(exam)
        back = focus.poll()
    finally:
        exam.close()
        other.close()
    assert [e["type"] for e in lost] == ["focus.lost"]
    assert [e["type"] for e in back] == ["focus.regained"]
    assert all(set(e) == {"type", "at"} for e in lost + back)  # no window titles travel
    found = activity.focus_left(_events(lost + back), utcnow())
    assert [d.behaviour for d in found] == ["focus.left"]


# -- system signs ------------------------------------------------------------------------------------

Part = namedtuple("Part", "device mountpoint fstype opts")


def test_removable_storage_diff_reports_bus_only():
    fixed = [Part("/dev/nvme0n1p2", "/", "ext4", "rw"), Part("/dev/nvme0n1p1", "/boot/efi", "vfat", "rw")]
    stick = Part("/dev/sdz1", "/media/student/EXAM-NOTES", "vfat", "rw,nosuid")
    card = Part("/dev/mmcblk0p1", "/media/student/CARD", "exfat", "rw")
    listings = iter([fixed, [*fixed, stick], fixed, [*fixed, card], [*fixed, card]])
    source = RemovableStorage(partitions=lambda: next(listings))
    polls = [source.poll() for _ in range(5)]
    assert [[(e["type"], e["data"]) for e in p] for p in polls] == [
        [],
        [("storage.inserted", {"bus": "usb"})],
        [("storage.removed", {"bus": "usb"})],
        [("storage.inserted", {"bus": "sd"})],
        [],
    ]
    assert "EXAM-NOTES" not in json.dumps(polls)
    assert "sdz" not in json.dumps(polls)
    found = activity.removable_storage(_events([e for p in polls for e in p]), utcnow())
    assert sorted(d.data["bus"] for d in found) == ["sd", "usb"]


def test_removable_storage_on_this_computer():
    import psutil

    volumes = removable_volumes(psutil.disk_partitions())
    assert all(v.bus in ("usb", "sd") for v in volumes)
    source = RemovableStorage()
    assert [e["type"] for e in source.poll()] == ["storage.inserted"] * len(volumes)
    assert source.poll() == []


def test_virtual_machine_and_remote_desktop_signs(tmp_path):
    dmi = tmp_path / "dmi"
    dmi.mkdir()
    (dmi / "product_name").write_text("VirtualBox\n")
    (dmi / "sys_vendor").write_text("innotek GmbH\n")
    (dmi / "product_serial").write_text("0-SECRET-SERIAL\n")
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vme sse2 hypervisor lahf_lm\n")
    assert vm_signs(dmi, cpuinfo) == ["dmi_virtualbox", "cpu_hypervisor_flag"]
    (dmi / "product_name").write_text("ThinkPad X1 Carbon\n")
    cpuinfo.write_text("flags\t\t: fpu vme sse2\n")
    assert vm_signs(dmi, cpuinfo) == []
    assert remote_signs(["bash", "AnyDesk.exe", "xrdp", "anydesk"]) == ["remote:anydesk", "remote:xrdp"]

    answers = iter([(["dmi_kvm"], ["firefox"]), (["dmi_kvm"], ["firefox"]), (["dmi_kvm"], ["teamviewer"])])
    state: dict = {}

    def check() -> dict:
        vm, names = state["now"] = next(answers)
        return environment_check(lambda: vm, lambda: names)

    env = Environment(check)
    polls = [env.poll() for _ in range(3)]
    assert [len(p) for p in polls] == [1, 0, 1]  # at the start, then only when the answer changes
    assert polls[2][0]["data"] == {
        "virtual_machine": True,
        "vm_signs": ["dmi_kvm"],
        "remote_desktop": True,
        "remote_signs": ["remote:teamviewer"],
    }
    found = activity.environment(_events(polls[0] + polls[2]))
    assert sorted(d.behaviour for d in found) == [
        "environment.remote_desktop",
        "environment.virtual_machine",
        "environment.virtual_machine",
    ]
    real = environment_check()  # this computer: booleans and fixed names only
    assert set(real) == {"virtual_machine", "vm_signs", "remote_desktop", "remote_signs"}
    assert "SERIAL" not in json.dumps(real)


# -- browser history ---------------------------------------------------------------------------------

CHROMIUM_SCHEMA = """
CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT,url LONGVARCHAR,title LONGVARCHAR,
  visit_count INTEGER DEFAULT 0 NOT NULL,typed_count INTEGER DEFAULT 0 NOT NULL,
  last_visit_time INTEGER NOT NULL,hidden INTEGER DEFAULT 0 NOT NULL);
CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT,url INTEGER NOT NULL,visit_time INTEGER NOT NULL,
  from_visit INTEGER,external_referrer_url TEXT,transition INTEGER DEFAULT 0 NOT NULL,
  segment_id INTEGER,visit_duration INTEGER DEFAULT 0 NOT NULL,incremented_omnibox_typed_score BOOLEAN
  DEFAULT FALSE NOT NULL,opener_visit INTEGER,originator_cache_guid TEXT,originator_visit_id INTEGER,
  originator_from_visit INTEGER,originator_opener_visit INTEGER,is_known_to_sync BOOLEAN DEFAULT FALSE
  NOT NULL,consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL,visited_link_id INTEGER DEFAULT 0
  NOT NULL,app_id TEXT);
CREATE INDEX visits_url_index ON visits (url);
CREATE INDEX visits_time_index ON visits (visit_time);
"""
FIREFOX_SCHEMA = """
CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
  rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,
  typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL, last_visit_date INTEGER,
  guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL, url_hash INTEGER DEFAULT 0 NOT NULL,
  description TEXT, preview_image_url TEXT, site_name TEXT, origin_id INTEGER,
  recalc_frecency INTEGER NOT NULL DEFAULT 0, alt_frecency INTEGER, recalc_alt_frecency INTEGER NOT NULL
  DEFAULT 0);
CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, from_visit INTEGER, place_id INTEGER,
  visit_date INTEGER, visit_type INTEGER, session INTEGER, source INTEGER DEFAULT 0 NOT NULL,
  triggeringPlaceId INTEGER);
CREATE INDEX moz_historyvisits_dateindex ON moz_historyvisits (visit_date);
"""


def _chromium_history(path: Path, visits: list[tuple[str, str, datetime]]) -> sqlite3.Connection:
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")  # as Chromium keeps it
    conn.executescript(CHROMIUM_SCHEMA)
    for url, title, at in visits:
        t = (at - datetime(1601, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        cur = conn.execute(
            "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES (?, ?, 1, ?)", (url, title, t)
        )
        conn.execute(
            "INSERT INTO visits(url, visit_time, transition) VALUES (?, ?, 805306368)", (cur.lastrowid, t)
        )
    conn.commit()
    return conn  # left open, as a running browser holds it


def _firefox_places(path: Path, visits: list[tuple[str, str, datetime]]) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.executescript(FIREFOX_SCHEMA)
        for i, (url, title, at) in enumerate(visits, 1):
            t = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
            conn.execute(
                "INSERT INTO moz_places(id, url, title, last_visit_date) VALUES (?, ?, ?, ?)",
                (i, url, title, t),
            )
            conn.execute(
                "INSERT INTO moz_historyvisits(place_id, visit_date, visit_type) VALUES (?, ?, 1)", (i, t)
            )
    conn.close()


def test_browser_history_reads_copies_and_keeps_the_exam_window_only(tmp_path):
    now = utcnow()
    start, end = now - timedelta(hours=1), now - timedelta(minutes=10)
    chromium = tmp_path / ".config" / "chromium" / "Default" / "History"
    live = _chromium_history(
        chromium,
        [
            ("https://before.example/", "Before", start - timedelta(minutes=5)),
            ("https://moodle.uni.example/quiz", "Quiz", start + timedelta(minutes=1)),
            ("https://chat.example/", "Chat", start + timedelta(minutes=20)),
            ("https://after.example/", "After", end + timedelta(minutes=2)),
        ],
    )
    _firefox_places(
        tmp_path / ".mozilla" / "firefox" / "abcd1234.default-release" / "places.sqlite",
        [
            ("https://old.example/", "Old", start - timedelta(days=1)),
            ("https://wiki.example/Proof", "Proof — Wiki", start + timedelta(minutes=30)),
        ],
    )
    wal = chromium.with_name("History-wal")
    before = (chromium.read_bytes(), wal.read_bytes() if wal.exists() else b"")
    try:
        source = BrowserHistory(start, end, home=tmp_path)
        doc = json.loads(source.capture())
        again = json.loads(source.capture())
        after = (chromium.read_bytes(), wal.read_bytes() if wal.exists() else b"")
        # The browser writes a visit some seconds after it happened, i.e. dated before the last
        # capture: the next capture still has it.
        late = (start + timedelta(minutes=40) - datetime(1601, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        cur = live.execute(
            "INSERT INTO urls(url, title, visit_count, last_visit_time) VALUES (?, ?, 1, ?)",
            ("https://late.example/", "Late", late),
        )
        live.execute("INSERT INTO visits(url, visit_time) VALUES (?, ?)", (cur.lastrowid, late))
        live.commit()
        third = json.loads(source.capture())
    finally:
        live.close()
    assert [(v["url"], v["title"], v["browser"]) for v in doc["visits"]] == [
        ("https://moodle.uni.example/quiz", "Quiz", "chromium"),
        ("https://chat.example/", "Chat", "chromium"),
        ("https://wiki.example/Proof", "Proof — Wiki", "firefox"),
    ]
    assert doc["visits"][0]["at"] == (start + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert again["visits"] == []  # each capture holds what is new since the last one
    assert [v["url"] for v in third["visits"]] == ["https://late.example/"]
    assert after == before  # the browser's own database was never written to
    live_pass = LivePass(
        parse_policy({"browser_history": {"enabled": True, "allowed_sites": ["uni.example"]}})
    )
    flagged = live_pass.events("browser_history", json.dumps(doc).encode(), "item-9", utcnow())
    assert [e["type"] for e in flagged] == ["detection.browser.outside_allowed"] * 2


# -- clipboard ---------------------------------------------------------------------------------------


def _clipboard(display: str) -> str | None:
    code = (
        "import tkinter as tk\nr = tk.Tk(); r.withdraw()\n"
        "try: print(r.clipboard_get(), end='')\nexcept tk.TclError: print('<EMPTY>', end='')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={"DISPLAY": display}, capture_output=True, text=True, timeout=20
    )
    return out.stdout


def test_clipboard_is_cleared_and_never_read(on_display):
    owner = Window(on_display, "Notes", "200x100+10+10", clipboard="the answer to question 3")
    try:
        assert _clipboard(on_display) == "the answer to question 3"
        assert clear_clipboard() is True
        started = time.monotonic()
        assert _clipboard(on_display) == "<EMPTY>"
        assert time.monotonic() - started < 5  # nobody owns it any more: pasting does not hang
    finally:
        owner.close()


# -- hand-in folder ----------------------------------------------------------------------------------


def test_handin_folder_backs_up_every_saved_version_once(tmp_path):
    import base64

    folder = tmp_path / "exam" / "Hand-in"
    source = HandinFolder(folder)
    assert folder.is_dir()  # created at activation
    answer = folder / "answer.txt"
    answer.write_text("Answer 1: first draft")
    (folder / ".~lock.answer.txt#").write_text("editor lock")
    assert source.capture() == b""  # just written: wait one poll for the editor to finish
    first = json.loads(source.capture())
    assert source.capture() == b""
    answer.write_text("Answer 1: first draft, then the proof")
    assert source.capture() == b""
    second = json.loads(source.capture())
    time.sleep(0.01)
    answer.touch()  # saved again without a change: no new backup
    assert [source.capture() for _ in range(3)] == [b"", b"", b""]
    assert (first["file"], base64.b64decode(first["content_base64"])) == (
        "answer.txt",
        b"Answer 1: first draft",
    )
    assert base64.b64decode(second["content_base64"]) == b"Answer 1: first draft, then the proof"
    assert second["sha256"] != first["sha256"]
    assert set(second) == {
        "file",
        "saved_at",
        "size",
        "sha256",
        "content_base64",
    }
    assert source.files() == [b"Answer 1: first draft, then the proof"]


# -- the factory -------------------------------------------------------------------------------------


def test_build_sources_offers_what_policy_sources_switches_on(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    policy = parse_policy(
        {
            "process_snapshots": {"enabled": True, "forbidden": ["discord"]},
            "browser_history": {"enabled": True},
            "handin_folder_backup": {"enabled": True},
            "removable_storage": {"mode": "record"},
            "clipboard": {"clear_at_start_and_end": True},
            "webcam": {"enabled": True, "mode": "clips", "clip_seconds": 5},
        }
    )
    options = RealOptions(
        camera="/nonexistent.mp4",
        handin_dir=tmp_path / "handin",
        exam_start=utcnow(),
        exam_end=utcnow() + timedelta(hours=1),
        exam_window="Invigil",
    )
    chosen = policy_sources(policy, build_sources(policy, options))
    kinds = sorted(s.kind for s, _ in chosen)
    assert kinds == sorted(
        [
            "webcam_clip",
            "process_snapshot",
            "browser_history",
            "handin_backup",
            "focus",
            "display",
            "environment",
            "removable_storage",
            "clipboard",
        ]
    )
    events = {s.kind for s, _ in chosen if isinstance(s, EventSource)}
    assert events == {"focus", "display", "environment", "removable_storage", "clipboard"}
    interval = {s.kind: i for s, i in chosen}
    assert interval["clipboard"] is None
    assert interval["handin_backup"]() == 2.0
    # Nothing on: nothing built.
    assert policy_sources(parse_policy({}), build_sources(parse_policy({}), options)) == []


ALSA_NULL_INPUT = """
pcm.!default { type plug slave.pcm "nothing" }
pcm.nothing { type null }
"""

RECORD_ONE_SECOND = """
import io, json, wave
from invigil.agent.sources.real.microphone import DeviceMicrophone, microphone
mic = microphone(None, 1)
assert isinstance(mic, DeviceMicrophone), mic
with wave.open(io.BytesIO(mic.capture())) as w:
    print(json.dumps([w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()]))
"""


def test_the_microphone_records_through_portaudio(tmp_path):
    """The real recording path (sounddevice, PortAudio, ALSA) on a null input device: no sound card
    here, so this proves the plumbing and the clip's format, not how a real microphone sounds."""
    if (
        subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.count("libportaudio.so.2")
        == 0
    ):
        unavailable("libportaudio2 is not installed (make setup installs it)")
    (tmp_path / ".asoundrc").write_text(ALSA_NULL_INPUT)  # PortAudio reads ALSA's config when it starts
    r = subprocess.run(
        [sys.executable, "-c", RECORD_ONE_SECOND],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.splitlines()[-1]) == [1, 2, 16_000, 16_000]  # 1 s of 16 kHz mono PCM
