"""The agent runtime with the real sources on a real (virtual) desktop, against a real server:
what the policy collects arrives sealed, what it only detects arrives as events and nothing else."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from invigil.agent.runtime import AgentRuntime, policy_sources
from invigil.agent.sources.real import RealOptions, build_sources
from invigil.evidence.models import EvidenceItem
from invigil.kit.clock import utcnow
from invigil.sessions.models import Event
from invigil.sim.classroom import reads_and_accepts
from tests.factories import make_exam
from tests.integration.xdisplay import xvfb

POLICY = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}},
    "microphone": {"enabled": True, "mode": "detection", "clip_seconds": 4},
    "process_snapshots": {"enabled": True, "interval_seconds": 5, "forbidden": ["discord"]},
    "handin_folder_backup": {"enabled": True},
    "removable_storage": {"mode": "record"},
    "tail_period_seconds": 1,
}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off"})  # only the agent's own detections


@pytest.mark.slow
def test_real_sources_through_the_runtime_to_the_server(server, installation, media, tmp_path, monkeypatch):
    speech = media / "vad_programy" / "speech" / "english1.wav"
    if not speech.is_file():
        pytest.skip(f"{speech} is missing from ../shared/media")
    exam = make_exam(installation, n=1, policy=POLICY)
    handin = tmp_path / "Hand-in"
    forbidden = tmp_path / "discord"
    shutil.copy(shutil.which("sleep") or "/bin/sleep", forbidden)

    def save_twice() -> None:
        """The candidate saves an answer, then saves it again a few seconds later."""
        deadline = time.monotonic() + 30
        while not handin.is_dir() and time.monotonic() < deadline:  # created at activation
            time.sleep(0.1)
        (handin / "answer.txt").write_text("Answer 1.")
        time.sleep(8)  # the first version has long been backed up (2 s polls, one to settle)
        (handin / "answer.txt").write_text("Answer 1. Answer 2.")

    with xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        options = RealOptions(
            camera=None,
            microphone_wav=speech,
            handin_dir=handin,
            exam_start=utcnow() - timedelta(minutes=1),
            exam_end=utcnow() + timedelta(hours=1),
        )
        runtime = AgentRuntime(
            server.url,
            tmp_path / "spool",
            exam.codes[0],
            lambda p: policy_sources(p, build_sources(p, options)),
            lambda: [f.read_bytes() for f in sorted(handin.iterdir())],
            handin_after=20,
            read_notice=reads_and_accepts,
        )
        saver = threading.Thread(target=save_twice)
        chat = subprocess.Popen([str(forbidden), "120"])
        try:
            saver.start()
            status = asyncio.run(runtime.run())
        finally:
            chat.terminate()
            chat.wait()
            saver.join()
    assert status.phase == "closed", status.error
    with installation.container.uow() as db:
        kinds = Counter(
            db.scalars(select(EvidenceItem.kind).where(EvidenceItem.session_id == exam.session_ids[0]))
        )
        types = set(db.scalars(select(Event.type).where(Event.session_id == exam.session_ids[0])))
    assert kinds["handin_backup"] == 2  # both saved versions, sealed
    assert kinds["handin_file"] == 1
    assert kinds["screenshot"] >= 1
    assert kinds["process_snapshot"] >= 1
    assert kinds["audio_clip"] == 0  # detection mode: the sound never left the computer
    assert {"detection.voice.speech", "detection.process.forbidden"} <= types
    assert {"environment.checked", "display.changed"} <= types
    assert not any(t.startswith("focus.") for t in types)  # no exam window: no focus to lose
