"""The candidate's program as a state machine (agent/program.py), without any window, against a real
server: wrong code, declined notice, system check, ID photo and room scan, PIN, hand-in and receipt,
tail and stop. The window and the terminal only show what these tests drive."""

from __future__ import annotations

import hashlib
import io
import re
import time
import wave
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from invigil.agent import checks, program
from invigil.agent.program import Options, Program, sample_sources
from invigil.agent.screens import countdown
from invigil.evidence.models import EvidenceItem
from invigil.kit import pinseal
from invigil.sessions.models import ExamSession
from tests.factories import FULL_POLICY, login, make_exam
from tests.integration.agentkit import activate

pytestmark = pytest.mark.slow

PIN = "K7QM-3XPD"


def start(server, tmp_path: Path, **options) -> Program:
    opts = Options(server=server.url, home=tmp_path / "home", **options)
    return Program(opts, make_sources=sample_sources).start()


def session_of(installation, session_id: str) -> ExamSession:
    with installation.container.uow() as db:
        row = db.get(ExamSession, session_id)
        assert row is not None
        db.expunge(row)
        return row


def items(installation, session_id: str) -> dict[str, int]:
    with installation.container.uow() as db:
        rows = db.execute(
            select(EvidenceItem.kind, func.count())
            .where(EvidenceItem.session_id == session_id)
            .group_by(EvidenceItem.kind)
        ).all()
    return dict(rows)


def through_notice(p: Program, server_url: str, code: str) -> None:
    p.connect(server_url, code)
    screen = p.wait_for("notice")
    assert screen.notice is not None
    assert "Test exam" in screen.notice["title"]
    p.accept_notice()


def test_whole_flow_wrong_code_then_hand_in_receipt_tail_and_stop(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    p = start(server, tmp_path)
    try:
        p.connect(server.url, "ABCD-EFGH-JKMN-PQRS")
        screen = p.wait_for("connect")
        assert "not valid" in screen.message
        assert "try again" in screen.message
        assert not (tmp_path / "home" / ".invigil" / "agent").exists() or not any(
            (tmp_path / "home" / ".invigil" / "agent").iterdir()
        )  # a refused code leaves nothing behind

        through_notice(p, server.url, exam.codes[0])
        screen = p.wait_for("checks")
        assert [(c.name, c.status) for c in screen.checks] == [
            ("Camera", "pass"),
            ("Screen capture", "pass"),
            ("Free disk space", screen.checks[2].status),
            ("Clock", "pass"),
        ]
        assert screen.checks[2].status != "fail"
        assert screen.can_continue
        assert screen.preview
        assert Image.open(io.BytesIO(screen.preview)).width <= 320
        assert session_of(installation, exam.session_ids[0]).state == "activated"
        assert items(installation, exam.session_ids[0]) == {}  # nothing recorded during the check

        p.continue_()
        screen = p.wait_for("recording")  # the exam has no assignment: no PIN step
        assert screen.recording_line == "Recording: screen, webcam, running programs, hand-in folder"
        assert re.fullmatch(r"5[89]:[0-5][0-9]", countdown(screen.exam_ends_at))  # 59 minutes left

        p.ask_handin()  # the hand-in folder is still empty
        screen = p.wait(screen.serial, 5)
        assert screen.step == "recording"
        assert "is empty" in screen.message
        answer = Path(screen.handin_dir) / "answer.txt"
        answer.write_text("My answers to the test exam.\n")
        p.ask_handin()
        screen = p.wait_for("confirm_handin")
        assert screen.handin_files == (("answer.txt", answer.stat().st_size),)
        p.cancel_handin()
        p.wait_for("recording")
        p.ask_handin()
        p.wait_for("confirm_handin")
        p.confirm_handin()

        screen = p.wait_for("handed_in", timeout=60)
        assert screen.receipt is not None
        assert "/me/" in screen.receipt["portal_url"]
        assert len(screen.receipt_secret.replace("-", "")) >= 52
        assert screen.tail_ends_at is not None
        assert screen.recording  # the tail period still records
        kept = Path(screen.receipt_file).read_text()
        assert screen.receipt["portal_url"] in kept
        assert screen.receipt_secret in kept
        assert len(screen.receipt["body"]["files"]) == 1  # the sealed answer (its envelope's SHA-256)

        screen = p.wait_for("stopped", timeout=60)
        assert screen.message == "Recording has stopped. You may close this window."
        assert screen.recording == ()
        assert screen.receipt is not None
    finally:
        p.quit()
    assert session_of(installation, exam.session_ids[0]).state == "closed"
    got = items(installation, exam.session_ids[0])
    assert got["handin_file"] == 1
    assert sum(got.values()) > 1


def test_declined_notice_records_nothing_and_leaves_the_code_usable(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    p = start(server, tmp_path)
    try:
        p.connect(server.url, exam.codes[0])
        p.wait_for("notice")
        p.decline_notice()
        screen = p.wait_for("declined")
        assert "nothing has been recorded" in screen.message
        assert "still unused" in screen.message
        assert screen.recording == ()
        assert screen.finished
    finally:
        p.quit()
    assert session_of(installation, exam.session_ids[0]).state == "issued"
    assert items(installation, exam.session_ids[0]) == {}
    with httpx.Client(base_url=server.url) as http:  # the candidate may change their mind
        assert activate(http, exam.codes[0]).session_id == exam.session_ids[0]


def test_too_many_wrong_codes_are_explained_not_retried(server, installation, tmp_path):
    """The server's guessing limit answers 429 with words for the candidate: the program shows them
    at once (it does not sit on "Connecting…" retrying into the limit), and keeps nothing."""
    exam = make_exam(installation, n=1)
    p = start(server, tmp_path)
    try:
        for _ in range(installation.container.settings.activation_max_failures):
            p.connect(server.url, "ABCD-EFGH-JKMN-PQRS")
            assert "not valid" in p.wait_for("connect").message
        p.connect(server.url, exam.codes[0])
        screen = p.wait_for("connect", timeout=20)
        assert "Too many wrong activation codes" in screen.message
        assert screen.tone == "problem"
    finally:
        p.quit()
    assert session_of(installation, exam.session_ids[0]).state == "issued"


def test_a_failed_check_blocks_the_start_until_it_passes(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    broken = {"on": True}

    class Camera:
        kind = "webcam_frame"

        def capture(self) -> bytes:
            if broken["on"]:
                raise OSError("device busy")
            out = io.BytesIO()
            Image.new("RGB", (64, 48), (120, 140, 160)).save(out, format="JPEG")
            return out.getvalue()

    def make(policy):  # type: ignore[no-untyped-def]
        return {**sample_sources(policy), "webcam_frame": Camera}

    p = Program(Options(server=server.url, home=tmp_path / "home"), make_sources=make).start()
    try:
        through_notice(p, server.url, exam.codes[0])
        screen = p.wait_for("checks")
        camera = screen.checks[0]
        assert (camera.name, camera.status) == ("Camera", "fail")
        assert "Check again" in camera.fix
        assert "Camera" in screen.message
        assert not screen.can_continue
        p.continue_()  # refused while a check fails
        assert p.wait(screen.serial, 1).step == "checks"
        broken["on"] = False
        p.check_again()
        screen = p.wait(p.wait(screen.serial, 10).serial, 10)
        screen = p.wait_for("checks")
        assert screen.checks[0].status == "pass"
        assert screen.can_continue
    finally:
        p.quit()
    assert items(installation, exam.session_ids[0]) == {}


def test_id_photo_and_room_scan_when_the_policy_asks(server, installation, tmp_path, monkeypatch):
    monkeypatch.setattr(program, "ROOM_SCAN_EVERY", 0.05)
    policy = {**FULL_POLICY, "id_check": {"enabled": True}, "room_scan": {"enabled": True}}
    exam = make_exam(installation, n=1, policy=policy)
    p = start(server, tmp_path)
    try:
        through_notice(p, server.url, exam.codes[0])
        p.wait_for("checks")
        p.continue_()
        screen = p.wait_for("id_photo")
        assert screen.recording  # the indicator is on from here
        p.continue_()  # no photo yet: stays
        assert p.wait(screen.serial, 1).step == "id_photo"
        p.take_photo()
        screen = p.wait(p.wait(screen.serial, 10).serial, 10)
        screen = p.wait_for("id_photo")
        assert screen.photos == 1
        assert screen.preview
        p.continue_()
        p.wait_for("room_scan")
        p.scan_room()
        screen = p.wait_for("room_scan", timeout=30)
        while screen.photos < program.ROOM_SCAN_FRAMES or screen.busy:
            screen = p.wait(screen.serial, 10)
        p.continue_()
        p.wait_for("recording")
        deadline = time.monotonic() + 20  # uploaded while the exam goes on
        while time.monotonic() < deadline:
            got = items(installation, exam.session_ids[0])
            if got.get("room_scan") == program.ROOM_SCAN_FRAMES:
                break
            time.sleep(0.2)
    finally:
        p.quit()
    assert got.get("id_photo") == 1, got
    assert got.get("room_scan") == program.ROOM_SCAN_FRAMES, got


def test_pin_opens_the_assignment_wrong_pin_says_so(server, installation, tmp_path):
    exam = make_exam(installation, n=1, start_offset=10)  # assignments are replaced until the start
    key = pinseal.new_key(PIN, exam.exam_id)
    body = pinseal.seal_bytes(b"Exercise 1: explain the design.\n", key, "exercise.txt", chunk=4096)
    r = httpx.put(
        f"{server.url}/api/v1/staff/exams/{exam.exam_id}/assignment-set",
        content=body,
        headers={**login(server.url, "coordinator"), "Invigil-Sha256": hashlib.sha256(body).hexdigest()},
    )
    assert r.status_code == 200, r.text
    p = start(server, tmp_path)
    try:
        through_notice(p, server.url, exam.codes[0])
        p.wait_for("checks")
        p.continue_()
        screen = p.wait_for("pin", timeout=30)
        p.enter_pin("X9TR-4WQZ")
        screen = p.wait(p.wait(screen.serial, 10).serial, 30)
        screen = p.wait_for("pin")
        assert "does not open" in screen.message
        p.enter_pin(PIN.lower())  # typed in lower case: forgiven like the code
        screen = p.wait_for("recording", timeout=30)
        assert screen.assignment_files == ("exercise.txt",)
        opened = Path(screen.assignment_dir) / "exercise.txt"
        assert opened.read_bytes() == b"Exercise 1: explain the design.\n"
    finally:
        p.quit()


def wav(samples: list[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
    return out.getvalue()


class Fixed:
    def __init__(self, kind: str, data: bytes) -> None:
        self.kind, self.data = kind, data

    def capture(self) -> bytes:
        return self.data


def png(color: tuple[int, int, int], noisy: bool = False) -> bytes:
    img = Image.new("RGB", (200, 100), color)
    if noisy:
        img.putpixel((10, 10), (255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_checks_judge_what_the_sources_deliver(tmp_path, server):
    dark = checks.camera(lambda: Fixed("webcam_frame", png((5, 5, 5))))
    assert dark.status == "warn"
    assert "light" in dark.fix
    assert checks.camera(None).status == "fail"
    silent = checks.microphone(lambda: Fixed("audio_clip", wav([0] * 1600)))
    assert silent.status == "warn"
    assert "muted" in silent.fix
    speaking = checks.microphone(lambda: Fixed("audio_clip", wav([8000, -8000] * 800)))
    assert speaking.status == "pass"
    broken = checks.microphone(lambda: Fixed("audio_clip", b"not a wav"))
    assert broken.status == "fail"
    blank = checks.screen(lambda: Fixed("screenshot", png((0, 0, 0))))
    assert blank.status == "warn"
    assert "Screen Recording" in blank.fix
    assert checks.screen(lambda: Fixed("screenshot", png((0, 0, 0), noisy=True))).status == "pass"
    assert checks.disk(tmp_path / "not" / "yet").status in ("pass", "warn", "fail")
    assert abs(checks.clock_offset(server.url)) < 3  # the same machine: the same clock
    assert checks.clock(server.url).status == "pass"
    assert checks.clock("http://127.0.0.1:9").status == "warn"  # nobody listens: say so, do not crash


def test_disk_check_thresholds(tmp_path, monkeypatch):
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    for free, status in ((100 * 1024**2, "fail"), (1024**3, "warn"), (10 * 1024**3, "pass")):
        monkeypatch.setattr(checks.shutil, "disk_usage", lambda _p, f=free: usage(0, 0, f))
        assert checks.disk(tmp_path).status == status
