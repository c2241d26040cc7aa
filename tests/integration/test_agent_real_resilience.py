"""Issue 6, all at once: the scripted agent with the REAL sources on a virtual desktop (screen, a
camera fed from a video file, a WAV microphone, programs, the hand-in folder), the network cut and
restored, then the agent killed with SIGKILL and restarted on the same spool — against a real
server, and nothing is lost or stored twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import Counter

import pytest
from sqlalchemy import select

from invigil.evidence.models import EvidenceItem
from invigil.sessions.models import Event
from tests.factories import make_exam
from tests.integration.test_resilience import (
    agent_cmd,
    assert_exactly_once,
    server_items,
    spool_rows,
    wait_for,
)
from tests.integration.xdisplay import Window, xvfb
from tests.netproxy import CuttableProxy

pytestmark = pytest.mark.slow

POLICY = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}},
    "webcam": {"enabled": True, "mode": "snapshots", "interval": {"min_seconds": 5, "max_seconds": 6}},
    "microphone": {"enabled": True, "mode": "detection", "clip_seconds": 4},
    "process_snapshots": {"enabled": True, "interval_seconds": 5, "forbidden": ["discord"]},
    "handin_folder_backup": {"enabled": True},
    "tail_period_seconds": 2,
    "allowed_offline_seconds": 600,
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # about the agent, not the database
def test_real_agent_survives_a_network_cut_and_a_kill(server, installation, media, tmp_path):
    video = media / "proctoring_ai" / "eye_tracking" / "center_focus.mp4"
    speech = media / "vad_programy" / "speech" / "english1.wav"
    exam = make_exam(installation, n=1, policy=POLICY)
    session = exam.session_ids[0]
    proxy = CuttableProxy(server.port)
    spool, handin = tmp_path / "spool", tmp_path / "Hand-in"
    forbidden = tmp_path / "discord"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", forbidden)
    real = ("--real", "--camera", str(video), "--microphone-wav", str(speech), "--handin-dir", str(handin))
    with xvfb() as display:
        env = {**os.environ, "DISPLAY": display}
        window = Window(display, "Exam answers", "800x500+40+40", "My answers")
        chat = subprocess.Popen([str(forbidden), "300"])
        first = subprocess.Popen(agent_cmd(proxy.url, exam.codes[0], spool, 600, *real), env=env)
        try:
            wait_for(lambda: len(server_items(installation, session)) >= 3, 60, "first uploads")
            proxy.cut()  # the network goes: capture goes on into the spool
            wait_for(lambda: handin.is_dir(), 10, "the hand-in folder")
            (handin / "answer.txt").write_text("Answer 1, written while offline.")
            wait_for(
                lambda: sum(s == "pending" for s in spool_rows(spool).values()) >= 4, 60, "captures offline"
            )
            first.send_signal(signal.SIGKILL)  # and then the agent is killed, with all that pending
            first.wait()
            pending = {k for k, s in spool_rows(spool).items() if s == "pending"}
            proxy.restore()
            second = subprocess.run(
                agent_cmd(proxy.url, exam.codes[0], spool, 15, *real),
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
        finally:
            for proc in (first, chat):
                if proc.poll() is None:
                    proc.kill()
            window.close()
            proxy.close()
    assert second.returncode == 0, second.stdout + second.stderr
    assert pending <= set(spool_rows(spool))  # what waited in the spool was kept through the kill
    assert_exactly_once(installation, session, spool)
    with installation.container.uow() as db:
        kinds = Counter(db.scalars(select(EvidenceItem.kind).where(EvidenceItem.session_id == session)))
        types = set(db.scalars(select(Event.type).where(Event.session_id == session)))
        handed = db.scalars(
            select(EvidenceItem).where(EvidenceItem.session_id == session, EvidenceItem.kind == "handin_file")
        ).all()
    assert kinds["screenshot"] >= 2
    assert kinds["webcam_frame"] >= 2
    assert kinds["process_snapshot"] >= 2
    assert kinds["handin_backup"] >= 1  # the answer saved while offline, backed up sealed
    assert kinds["audio_clip"] == 0  # detection mode: no sound leaves the computer
    assert len(handed) == 1
    assert {"detection.process.forbidden", "detection.voice.speech"} <= types
