"""A candidate's webcam frames, in order -> face.absent, face.multiple, head.away, gaze.away.

Each behaviour is reported once per run of consecutive frames that show it (start = first frame's
time, end = last frame's time, evidence = the frames' client ids); a frame without it closes the run.
Head pose and gaze are compared with the candidate's own baseline: the median over the first
``baseline_frames`` frames with exactly one face, so a camera mounted to the side does not count as
looking away. While the baseline is being learnt, each frame is compared with the median so far
(itself included); a baseline more than 30° from straight ahead is replaced by straight ahead.
A baseline is a few numbers about camera placement, kept in memory for the one exam; it is not a
profile of the person and is never stored.

Not thread-safe: one WebcamTrack per candidate stream, fed from one thread.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from invigil.analysis.base import Detection
from invigil.analysis.vision import FrameFacts

# Measured on AFLW2000 and the proctoring_ai clips (bench/accuracy.py, ADR 0008).
HEAD_YAW_DEG = 30.0  # |yaw - baseline| above this: turned away (yaw error: median ~2°, mean ~4°)
HEAD_PITCH_DEG = 25.0  # looking down at the desk or up
# the iris moved 5% of the eye's width from its baseline (centre jitter <= 0.03, a glance >= 0.075)
GAZE_HORIZONTAL = 0.05
# A baseline further than this from straight ahead is not trusted (someone looked away at the start)
MAX_BASELINE_YAW = 30.0


@dataclass
class _Run:
    start: datetime
    end: datetime
    evidence: list[str]
    scores: list[float]
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebcamTrack:
    baseline_frames: int = 5
    head_yaw_deg: float = HEAD_YAW_DEG
    head_pitch_deg: float = HEAD_PITCH_DEG
    gaze_horizontal: float = GAZE_HORIZONTAL
    _yaws: list[float] = field(default_factory=list)
    _pitches: list[float] = field(default_factory=list)
    _gazes: list[float] = field(default_factory=list)
    _runs: dict[str, _Run] = field(default_factory=dict)
    _last: datetime | None = None

    @property
    def baseline(self) -> tuple[float, float, float]:
        """(yaw, pitch, horizontal gaze) the frames are compared with."""
        if not self._yaws:
            return (0.0, 0.0, 0.0)
        yaw = statistics.median(self._yaws)
        if abs(yaw) > MAX_BASELINE_YAW:
            return (0.0, 0.0, 0.0)
        gazes = statistics.median(self._gazes) if self._gazes else 0.0
        return (yaw, statistics.median(self._pitches), gazes)

    def push(self, client_id: str, captured_at: datetime, facts: FrameFacts) -> list[Detection]:
        """Consume the next frame (in capture order); return the detections it closed."""
        if self._last is not None and captured_at < self._last:
            raise ValueError("frames must come in the order they were captured")
        self._last = captured_at
        self._learn(facts)
        seen = self._judge(facts)
        closed = [self._close(b) for b in list(self._runs) if b not in seen]
        for behaviour, (score, data) in seen.items():
            run = self._runs.get(behaviour)
            if run is None:
                run = self._runs[behaviour] = _Run(captured_at, captured_at, [], [])
            run.end = captured_at
            run.evidence.append(client_id)
            run.scores.append(score)
            run.data = data
        return closed

    def finish(self) -> list[Detection]:
        """Close every open run (end of the stream)."""
        return [self._close(b) for b in list(self._runs)]

    def _judge(self, facts: FrameFacts) -> dict[str, tuple[float, dict[str, Any]]]:
        seen: dict[str, tuple[float, dict[str, Any]]] = {}
        if facts.n_faces == 0:
            seen["face.absent"] = (1.0 - facts.best_score, {})
            return seen
        if facts.n_faces > 1:
            seen["face.multiple"] = (facts.faces[1].score, {"n_faces": facts.n_faces})
        yaw0, pitch0, gaze0 = self.baseline
        if facts.pose is not None:
            dyaw, dpitch = facts.pose.yaw - yaw0, facts.pose.pitch - pitch0
            over = max(abs(dyaw) / self.head_yaw_deg, abs(dpitch) / self.head_pitch_deg)
            if over > 1.0:
                angles = {"yaw": round(facts.pose.yaw, 1), "pitch": round(facts.pose.pitch, 1)}
                seen["head.away"] = (min(1.0, over / 2.0), angles)
        if facts.gaze is not None and "head.away" not in seen:
            moved = abs(facts.gaze.horizontal - gaze0) / self.gaze_horizontal
            if moved > 1.0:
                side = "image-left" if facts.gaze.horizontal > gaze0 else "image-right"
                seen["gaze.away"] = (min(1.0, moved / 2.0), {"toward": side})
        return seen

    def _learn(self, facts: FrameFacts) -> None:
        if len(self._yaws) >= self.baseline_frames or facts.n_faces != 1 or facts.pose is None:
            return
        self._yaws.append(facts.pose.yaw)
        self._pitches.append(facts.pose.pitch)
        if facts.gaze is not None:
            self._gazes.append(facts.gaze.horizontal)

    def _close(self, behaviour: str) -> Detection:
        run = self._runs.pop(behaviour)
        return Detection(
            behaviour=behaviour,
            score=round(statistics.fmean(run.scores), 3),
            start=run.start,
            end=run.end,
            evidence=tuple(run.evidence),
            data={**run.data, "frames": len(run.evidence)},
        )


def track(frames: Iterable[tuple[str, datetime, FrameFacts]], baseline_frames: int = 5) -> list[Detection]:
    """Every detection in a finished stream of (client_id, captured_at, facts), ordered by start."""
    webcam = WebcamTrack(baseline_frames=baseline_frames)
    found: list[Detection] = []
    for client_id, captured_at, facts in frames:
        found.extend(webcam.push(client_id, captured_at, facts))
    found.extend(webcam.finish())
    return sorted(found, key=lambda d: (d.start, d.behaviour))
