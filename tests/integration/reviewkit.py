"""A finished exam to review, made the real way: agents upload sealed evidence and events over HTTP,
the analysis worker opens the evidence with its own key and raises flags (flags/tasks.py).

Candidate "flagged" has a red flag (a forbidden program in a process snapshot), a yellow one (a site
outside the allowed ones in the browser history) and a green one (left the exam window), a
screenshot, a webcam frame, an offline stretch and a hand-in. "quiet" has one yellow flag (a USB
stick) and handed in the same essay (a yellow near-identical pair with "flagged"); "idle" only
started. The flagged candidate started 38 minutes ago.
"""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from invigil.flags import tasks
from invigil.flags.opener import EvidenceOpener
from invigil.kit.clock import iso, utcnow
from invigil.protocol import v1
from invigil.sessions.models import ExamSession, OfflinePeriod
from tests.factories import FULL_POLICY, Installation, give_key, make_exam
from tests.integration.agentkit import Agent, activate
from tests.integration.flagkit import ESSAY, FORBIDDEN_POLICY, analysis_account, assign_worker, processes

POLICY: dict[str, Any] = {
    **FULL_POLICY,
    **FORBIDDEN_POLICY,
    "webcam": {**FULL_POLICY["webcam"], "mode": "clips", "clip_seconds": 2},
    "microphone": {"enabled": True, "mode": "recording", "clip_seconds": 5},
}


@dataclass
class Reviewable:
    exam_id: str
    flagged: Agent
    quiet: Agent
    idle: Agent
    pseudonyms: dict[str, str]  # "flagged" | "quiet" | "idle" -> pseudonym
    items: dict[str, str]  # kind -> client id of the flagged candidate's item
    process_names: list[str]


def tone(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A real WAV: a quiet 440 Hz tone, as a sound clip would be recorded."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    return buf.getvalue()


def moving_picture(frames: int = 20, size: tuple[int, int] = (320, 240)) -> bytes:
    """A real animated WebP, as the agent records a camera clip: a bar sweeping across."""
    from PIL import Image, ImageDraw

    images = []
    for i in range(frames):
        image = Image.new("RGB", size, (40, 40, 48))
        x = i * size[0] // frames
        ImageDraw.Draw(image).rectangle((x, 0, x + 20, size[1]), fill=(230, 200, 60))
        images.append(image)
    out = io.BytesIO()
    images[0].save(out, "WEBP", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def picture(text: str, size: tuple[int, int] = (480, 300), jpeg: bool = False) -> bytes:
    """A real, small image (a mock screen with some words on it)."""
    import cv2
    import numpy as np

    img = np.full((size[1], size[0], 3), 245, np.uint8)
    cv2.rectangle(img, (0, 0), (size[0], 28), (120, 70, 20), -1)
    cv2.putText(img, "Exam - answer sheet", (10, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1)
    cv2.putText(img, text, (20, 90), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (30, 30, 30), 2)
    for i in range(5):
        cv2.line(img, (20, 130 + 30 * i), (size[0] - 40, 130 + 30 * i), (180, 180, 180), 1)
    ok, data = cv2.imencode(".jpg" if jpeg else ".png", img)
    assert ok
    return bytes(data.tobytes())


def _put(agent: Agent, kind: str, data: bytes, at: datetime) -> str:
    client_id, sealed = agent.seal(kind, data)
    r = agent.put(client_id, kind, sealed, headers={v1.H_CAPTURED_AT: iso(at) or ""})
    assert r.status_code == 201, r.text
    return client_id


def _events(agent: Agent, *entries: tuple[str, str, datetime, dict[str, Any]]) -> None:
    body = {"events": [{"id": i, "type": t, "at": iso(at), "data": d} for i, t, at, d in entries]}
    r = agent.http.post(f"{v1.PREFIX}/events", json=body, headers=agent.auth())
    assert r.status_code == 200, r.text


def reviewable_exam(http: httpx.Client, inst: Installation, tmp: Path) -> Reviewable:
    c = inst.container
    give_key(inst, "reviewer")  # before the exam exists: the reviewer holds its keys from the start
    worker = analysis_account(inst, tmp)
    exam = make_exam(inst, n=3, policy=POLICY, start_offset=-40, minutes=90)
    assign_worker(c, exam.exam_id, worker.staff_id)
    opener = EvidenceOpener(worker.staff_id, worker.key, c.store)
    now = utcnow()
    t0 = now - timedelta(minutes=38)

    flagged, quiet, idle = (activate(http, code) for code in exam.codes)
    with c.uow() as db:  # they started earlier than this test: move the start back
        for agent, minutes in ((flagged, 38), (quiet, 36), (idle, 30)):
            db.execute(
                update(ExamSession)
                .where(ExamSession.id == agent.session_id)
                .values(activated_at=now - timedelta(minutes=minutes))
            )
        db.add(
            OfflinePeriod(
                session_id=flagged.session_id,
                started_at=t0 + timedelta(minutes=22),
                ended_at=t0 + timedelta(minutes=25),
            )
        )

    items = {
        "screenshot": _put(flagged, "screenshot", picture("Answer 3: O(log n)"), t0 + timedelta(minutes=4)),
        "webcam_frame": _put(
            flagged, "webcam_frame", picture("webcam", (320, 240), True), t0 + timedelta(minutes=6)
        ),
    }
    names = ["systemd", "libreoffice-writer", "firefox", "Discord.exe"]
    snapshot = {**json.loads(processes("Discord.exe")), "taken_at": iso(t0 + timedelta(minutes=12))}
    items["process_snapshot"] = _put(
        flagged, "process_snapshot", json.dumps(snapshot).encode(), t0 + timedelta(minutes=12)
    )
    history = {
        "taken_at": iso(t0 + timedelta(minutes=16)),
        "visits": [
            {"url": "https://uni.example/exam", "at": iso(t0 + timedelta(minutes=2))},
            {"url": "https://chatgpt.com/c/answer", "at": iso(t0 + timedelta(minutes=15))},
        ],
    }
    items["browser_history"] = _put(
        flagged, "browser_history", json.dumps(history).encode(), t0 + timedelta(minutes=16)
    )
    _events(
        flagged,
        ("focus-lost-0001", "focus.lost", t0 + timedelta(minutes=28), {}),
        ("focus-back-0001", "focus.regained", t0 + timedelta(minutes=29), {}),
    )
    _put(quiet, "process_snapshot", processes(), now - timedelta(minutes=30))
    _put(quiet, "audio_clip", tone(), now - timedelta(minutes=29))
    _put(quiet, "webcam_clip", moving_picture(), now - timedelta(minutes=28))
    _events(
        quiet,
        ("usb-in-00000001", "storage.inserted", now - timedelta(minutes=20), {"bus": "usb"}),
        ("usb-out-0000001", "storage.removed", now - timedelta(minutes=19), {}),
    )
    for agent in (flagged, quiet):
        answer = agent.upload("handin_file", ESSAY.encode())  # the same essay: a near-identical pair
        assert agent.handin([answer]).status_code == 200
    for kind in ("process_snapshot", "browser_history"):
        tasks.analyse_item(c, f"{flagged.session_id}/{items[kind]}", opener)
    for agent in (flagged, quiet):
        tasks.analyse_session(c, agent.session_id)
    assert tasks.analyse_handins(c, exam.exam_id, opener) == 1
    by_session = dict(zip(exam.session_ids, exam.pseudonyms, strict=True))
    return Reviewable(
        exam.exam_id,
        flagged,
        quiet,
        idle,
        {n: by_session[a.session_id] for n, a in (("flagged", flagged), ("quiet", quiet), ("idle", idle))},
        items,
        names,
    )
