"""Webcam and microphone analysers for the registry (analysis/registry.py). Models load on first use.

Per item, without state: faces in one webcam frame (``face.absent``, ``face.multiple``) and speech
in one audio clip (``voice.speech``). Head pose and gaze need the candidate's own baseline over a
stream of frames (``webcam.WebcamTrack``), which a per-item analyser cannot keep.
"""

from __future__ import annotations

from invigil.analysis import webcam
from invigil.analysis.audio import shared_voice
from invigil.analysis.base import Detection
from invigil.analysis.registry import Capture
from invigil.analysis.vision import shared_analyzer

PER_FRAME = ("face.absent", "face.multiple")


def webcam_frame(data: bytes, capture: Capture) -> list[Detection]:
    facts = shared_analyzer().analyze(data)
    found = webcam.track([(capture.item, capture.captured_at, facts)])
    return [d for d in found if d.behaviour in PER_FRAME]


def audio_clip(data: bytes, capture: Capture) -> list[Detection]:
    return shared_voice().detect(data, capture.item, capture.captured_at)


ANALYSERS = {"webcam_frame": webcam_frame, "audio_clip": audio_clip}
