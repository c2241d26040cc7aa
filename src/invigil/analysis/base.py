"""What every detector produces, and the catalogue of behaviours it may report.

A detector looks at plaintext (in the agent, before sealing; or in the institution's worker, after
opening) and reports ``Detection``s: one behaviour, a score, a time span and the evidence it came
from. The exam's rules (analysis/rules.py) decide which detections become flags and how severe.
No detection is a verdict, and nothing in the software acts on one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Detection:
    behaviour: str  # a key of BEHAVIOURS
    score: float  # 0..1: how strong or how sure
    start: datetime
    end: datetime
    evidence: tuple[str, ...] = ()  # client ids of the evidence items it was seen in
    data: dict[str, Any] = field(default_factory=dict)  # detector-specific facts (angles, names, ...)

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError("a detection's score is between 0 and 1")
        if self.end < self.start:
            raise ValueError("a detection ends after it starts")


# behaviour -> (what it means, for the reviewer and the rule editor; which evidence or events it uses)
BEHAVIOURS: dict[str, tuple[str, str]] = {
    "face.absent": ("Nobody is visible on the camera.", "webcam"),
    "face.multiple": ("More than one face is visible on the camera.", "webcam"),
    "head.away": ("The head is turned away from the screen, compared with the start of the exam.", "webcam"),
    "gaze.away": ("The eyes look away from the screen.", "webcam"),
    "face.mismatch": ("The face differs from the reference photo taken at the start.", "biometric"),
    "voice.speech": ("Someone speaks (the microphone detected speech).", "audio"),
    "process.forbidden": ("A program on the exam's forbidden list is running.", "process list"),
    "browser.outside_allowed": ("A website outside the allowed sites was visited.", "browser history"),
    "storage.removable": ("A USB stick or other removable storage was inserted.", "events"),
    "focus.left": ("The exam window lost focus.", "events"),
    "network.offline": ("The computer was offline.", "sessions"),
    "activity.idle": ("No keyboard or mouse activity for a while.", "events"),
    "display.extra_monitor": ("More than one monitor is connected.", "events"),
    "environment.virtual_machine": ("Signs of a virtual machine.", "events"),
    "environment.remote_desktop": ("Signs of remote desktop or screen-sharing software.", "events"),
    "handin.near_duplicate": ("The hand-in is nearly identical to another candidate's.", "hand-ins"),
}
