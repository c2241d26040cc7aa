"""The real capture sources of a candidate's computer (ADR 0019), one module per source.

``build_sources(policy, RealOptions(...))`` answers the ``make`` dictionary that
``runtime.policy_sources(policy, make)`` reads: evidence kinds and event-source names to factories.
Only what the policy switches on is built (``policy_sources`` decides; this only offers), and a source
that cannot work on this computer is left out with a message in ``problems(...)``, never faked.

    make = build_sources(policy, options)
    runtime = AgentRuntime(..., sources=lambda p: policy_sources(p, make), ...)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from invigil.agent.sources import EventSource, Source
from invigil.agent.sources.real.browser_history import BrowserHistory
from invigil.agent.sources.real.clipboard import ClipboardClearer
from invigil.agent.sources.real.focus import Focus
from invigil.agent.sources.real.handin_folder import HandinFolder
from invigil.agent.sources.real.microphone import NO_BACKEND, microphone, recording_backend
from invigil.agent.sources.real.processes import Processes
from invigil.agent.sources.real.screen import Displays, Screen
from invigil.agent.sources.real.system import Environment, RemovableStorage
from invigil.agent.sources.real.webcam import Camera, WebcamClip, WebcamFrame
from invigil.protocol.policy import Policy

log = logging.getLogger("invigil.agent")

__all__ = ["RealOptions", "build_sources", "problems"]


@dataclass(frozen=True, kw_only=True)
class RealOptions:
    camera: int | str | None = 0  # a device index, or a video file's path; None: no camera
    microphone_wav: Path | None = None  # read clips from this WAV instead of a microphone
    handin_dir: Path
    screen_max_width: int = 1280
    exam_start: datetime
    exam_end: datetime
    # The exam window's title (or a part of it), for focus events; None: no focus tracking, because
    # without an exam window of our own there is no focus to lose.
    exam_window: str | None = None
    home: Path | None = None  # where the browser profiles are; the user's home by default


def problems(policy: Policy, options: RealOptions) -> list[str]:
    """What the policy asks for that this computer cannot give, in words for the candidate."""
    found = []
    if policy.microphone.enabled and options.microphone_wav is None and recording_backend() is None:
        found.append(NO_BACKEND)
    if (policy.webcam.enabled or policy.face_verification.enabled) and options.camera is None:
        found.append("no camera was chosen, but the exam uses the webcam")
    if policy.process_snapshots.enabled and options.exam_window is None:
        found.append("focus changes are not tracked: there is no exam window")
    return found


def build_sources(policy: Policy, options: RealOptions) -> dict[str, Callable[[], Source | EventSource]]:
    """The factories ``policy_sources`` calls for what the policy switches on."""
    make: dict[str, Callable[[], Source | EventSource]] = {
        "screenshot": lambda: Screen(options.screen_max_width, policy.screenshots.all_monitors),
        "process_snapshot": Processes,
        "browser_history": lambda: BrowserHistory(options.exam_start, options.exam_end, options.home),
        "handin_backup": lambda: HandinFolder(options.handin_dir, policy.max_item_bytes),
        "display": Displays,
        "environment": Environment,
        "removable_storage": RemovableStorage,
        "clipboard": ClipboardClearer,
    }
    if options.camera is not None:
        camera = Camera(options.camera)  # one device shared by the start photo, frames and clips
        make["webcam_frame"] = lambda: WebcamFrame(camera)
        make["reference_photo"] = lambda: WebcamFrame(camera, kind="reference_photo")
        make["webcam_clip"] = lambda: WebcamClip(camera, policy.webcam.clip_seconds)
    if options.microphone_wav is not None or recording_backend() is not None:
        make["audio_clip"] = lambda: microphone(options.microphone_wav, policy.microphone.clip_seconds)
    elif policy.microphone.enabled:
        log.warning("the exam uses the microphone, but %s", NO_BACKEND)
    if options.exam_window is not None:
        title = options.exam_window
        make["focus"] = lambda: Focus(title)
    return make
