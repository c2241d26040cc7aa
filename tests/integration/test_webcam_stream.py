"""The webcam as a stream: looking away against the candidate's own baseline and (opt-in) face
verification against the reference photo, in the worker after the session and live in the agent;
the microphone in detection mode, where only what was heard leaves the computer.
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from invigil.agent.live import LivePass
from invigil.agent.runtime import AgentRuntime, policy_sources
from invigil.agent.sources.sample import SampleMicrophone, group_photo, webcam_frames
from invigil.evidence.models import EvidenceItem
from invigil.flags import tasks
from invigil.flags.models import DetectionRecord
from invigil.flags.opener import EvidenceOpener
from invigil.kit.clock import utcnow
from invigil.protocol.policy import parse_policy
from invigil.sessions import service as sessions
from invigil.sessions.models import Event
from invigil.sim.classroom import reads_and_accepts
from tests.factories import make_exam
from tests.integration.agentkit import activate
from tests.integration.flagkit import analysis_account, assign_worker

WEBCAM: dict[str, Any] = {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}}
VERIFYING: dict[str, Any] = {
    "webcam": WEBCAM,
    "face_verification": {"enabled": True},
    "tail_period_seconds": 0,
}
LISTENING: dict[str, Any] = {
    "microphone": {"enabled": True, "mode": "detection", "clip_seconds": 4},
    "tail_period_seconds": 1,
}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"analysis_queue": "off"})  # jobs run by hand below


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def worker(installation, tmp_path, exam_id: str) -> EvidenceOpener:
    account = analysis_account(installation, tmp_path)
    assign_worker(installation.container, exam_id, account.staff_id)
    return EvidenceOpener(account.staff_id, account.key, installation.container.store)


def detections(c, session_id: str) -> list[DetectionRecord]:
    with c.uow() as db:
        rows = db.scalars(select(DetectionRecord).where(DetectionRecord.session_id == session_id)).all()
        db.expunge_all()
        return sorted(rows, key=lambda r: (r.start, r.behaviour))


def test_worker_replays_the_frames_against_baseline_and_reference_photo(http, installation, tmp_path):
    exam = make_exam(installation, n=1, policy=VERIFYING)
    opener = worker(installation, tmp_path, exam.exam_id)
    agent = activate(http, exam.codes[0])
    focus, away = webcam_frames("focus"), webcam_frames("away")
    agent.upload("reference_photo", focus[0])
    seen = [*focus, *away, away[0], group_photo(), focus[1]]
    ids = [agent.upload("webcam_frame", frame) for frame in seen]
    c = installation.container

    new = tasks.analyse_stream(c, agent.session_id, opener)
    found = detections(c, agent.session_id)
    assert new == len(found)
    by = {d.behaviour: d for d in found}
    # One episode over the three glances, after the three frames that set the baseline.
    assert set(by) == {"gaze.away", "face.mismatch"}, [(d.behaviour, d.evidence) for d in found]
    assert by["gaze.away"].evidence == ids[3:6]
    assert by["gaze.away"].data["frames"] == 3
    # Someone else at the desk: coarse band and distance, never an embedding.
    assert by["face.mismatch"].evidence == [ids[6]]
    assert by["face.mismatch"].score >= 0.5
    assert set(by["face.mismatch"].data) == {"band", "distance"}
    assert by["face.mismatch"].data["band"] == "different"
    assert all(d.source == "worker" for d in found)

    # Idempotent: the replay replaces its own results (late frames are simply included next time).
    assert tasks.analyse_stream(c, agent.session_id, opener) == 0
    assert len(detections(c, agent.session_id)) == len(found)
    agent.upload("webcam_frame", focus[2])
    tasks.analyse_stream(c, agent.session_id, opener)
    assert {d.behaviour for d in detections(c, agent.session_id)} == {"gaze.away", "face.mismatch"}


def test_without_the_opt_in_no_face_is_compared(http, installation, tmp_path):
    exam = make_exam(installation, n=1, policy={"webcam": WEBCAM, "tail_period_seconds": 0})
    opener = worker(installation, tmp_path, exam.exam_id)
    agent = activate(http, exam.codes[0])
    for frame in [*webcam_frames("focus"), group_photo()]:
        agent.upload("webcam_frame", frame)
    tasks.analyse_stream(installation.container, agent.session_id, opener)
    assert "face.mismatch" not in {d.behaviour for d in detections(installation.container, agent.session_id)}


def test_stream_pass_without_a_key_or_frames_does_nothing(http, installation, tmp_path):
    exam = make_exam(installation, n=1, policy=VERIFYING)
    opener = worker(installation, tmp_path, exam.exam_id)
    agent = activate(http, exam.codes[0])
    assert tasks.analyse_stream(installation.container, agent.session_id, opener) == 0
    agent.upload("webcam_frame", webcam_frames()[0])
    assert tasks.analyse_stream(installation.container, agent.session_id, None) == 0
    assert tasks.analyse_stream(installation.container, "no-such-session", opener) == 0


def test_agent_live_pass_follows_the_stream_and_closes_open_episodes():
    live = LivePass(parse_policy({"webcam": WEBCAM}))
    focus, away = webcam_frames("focus"), webcam_frames("away")
    events = []
    for i, frame in enumerate([*focus, *away]):
        events += live.events("webcam_frame", frame, f"w{i}", utcnow())
    assert events == []  # the eyes are still away: the episode is open
    (closed,) = live.finish()
    assert closed["type"] == "detection.gaze.away"
    assert closed["data"]["evidence"] == ["w3", "w4"]
    assert live.finish() == []
    # One frame alone still answers for itself: two people in view is reported at once.
    (multiple,) = live.events("webcam_frame", group_photo(), "w9", utcnow())
    assert multiple["type"] == "detection.face.multiple"


def test_microphone_detection_mode_sends_what_was_heard_never_the_sound(server, installation, tmp_path):
    exam = make_exam(installation, n=1, policy=LISTENING)

    def sources(p):  # type: ignore[no-untyped-def]
        return policy_sources(p, {"audio_clip": lambda: SampleMicrophone(4, talks=True, seed="t")})

    runtime = AgentRuntime(
        server.url,
        tmp_path / "spool",
        exam.codes[0],
        sources,
        lambda: [b"answers"],
        handin_after=14,
        read_notice=reads_and_accepts,
    )
    status = asyncio.run(runtime.run())
    assert status.phase == "closed", status.error
    c = installation.container
    with c.uow() as db:
        kinds = set(
            db.scalars(select(EvidenceItem.kind).where(EvidenceItem.session_id == exam.session_ids[0]))
        )
        speech = db.scalars(
            select(Event).where(
                Event.session_id == exam.session_ids[0], Event.type == "detection.voice.speech"
            )
        ).all()
        assert kinds == {"handin_file"}  # no audio_clip: detection mode keeps no sound
        assert speech, "the reading in the second clip was not heard"
        assert all(e.data["evidence"] == [] for e in speech)  # nothing on the server to point at
    tasks.analyse_session(c, exam.session_ids[0])
    assert "voice.speech" in {d.behaviour for d in detections(c, exam.session_ids[0])}


def test_sweeper_names_the_sessions_it_ended_so_their_analysis_runs(http, installation):
    exam = make_exam(installation, n=2, minutes=1, start_offset=-0.5)
    activate(http, exam.codes[0])  # activated, then silent for good; the other never came
    ended: list[str] = []
    with installation.container.uow() as db:
        later = utcnow() + timedelta(hours=2)
        sessions.sweep(db, later, 30, ended)
    assert ended == [exam.session_ids[0]]  # a never-activated session has nothing to analyse
