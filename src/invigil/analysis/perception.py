"""Webcam and microphone analysers. Models load on first use.

Per item, without state (registered in analysis/registry.py): faces in one webcam frame
(``face.absent``, ``face.multiple``) and speech in one audio clip (``voice.speech``).

Per stream: head pose and gaze need the candidate's own baseline over their frames in capture order
(``webcam.WebcamTrack``), which a per-item analyser cannot keep. ``WebcamStream`` is that stream; the
agent keeps one for the exam (live), the worker replays a session's stored frames through one when
the session ends (flags/tasks.py ``analyse_stream``). Both passes therefore run the same code.
"""

from __future__ import annotations

import threading
from datetime import datetime

from invigil.analysis import webcam
from invigil.analysis.audio import shared_voice
from invigil.analysis.base import Detection
from invigil.analysis.registry import Capture
from invigil.analysis.vision import FrameFacts, shared_analyzer

PER_FRAME = ("face.absent", "face.multiple")
STREAM = ("head.away", "gaze.away")


def frame_detections(facts: FrameFacts, item: str, captured_at: datetime) -> list[Detection]:
    """What one frame shows by itself: nobody, or more than one person."""
    found = webcam.track([(item, captured_at, facts)])
    return [d for d in found if d.behaviour in PER_FRAME]


def webcam_frame(data: bytes, capture: Capture) -> list[Detection]:
    return frame_detections(shared_analyzer().analyze(data), capture.item, capture.captured_at)


def audio_clip(data: bytes, capture: Capture) -> list[Detection]:
    return shared_voice().detect(data, capture.item, capture.captured_at)


ANALYSERS = {"webcam_frame": webcam_frame, "audio_clip": audio_clip}


class WebcamStream:
    """One candidate's webcam frames in capture order -> looking-away episodes against their baseline.

    ``push`` answers the episodes a frame closed (and, with ``per_frame``, that frame's own face
    detections, so that one decode serves both); ``finish`` closes what is still open. Thread-safe:
    the agent's capture threads may push concurrently.
    """

    def __init__(self, per_frame: bool = True) -> None:
        self.per_frame = per_frame
        self._track = webcam.WebcamTrack()
        self._lock = threading.Lock()

    def push(self, data: bytes, item: str, captured_at: datetime) -> list[Detection]:
        facts = shared_analyzer().analyze(data)
        with self._lock:
            closed = [d for d in self._track.push(item, captured_at, facts) if d.behaviour in STREAM]
        return closed + (frame_detections(facts, item, captured_at) if self.per_frame else [])

    def finish(self) -> list[Detection]:
        with self._lock:
            return [d for d in self._track.finish() if d.behaviour in STREAM]
