"""The agent's live pass: registered analysers on each capture's plaintext, before it is sealed.

Their detections travel as events ``detection.<behaviour>`` with a score and the span in ``data``;
severity is the exam's rules' business, decided on the server. The server stores them as
agent-source detections; the institution's worker re-analyses the sealed items authoritatively.

Webcam frames also feed one ``WebcamStream`` for the whole exam (head pose and gaze against the
candidate's own baseline); ``finish`` reports the episodes still open when capture stops.
A capture the policy does not keep (the microphone in detection mode) is analysed here and then
dropped: its events carry no evidence reference, because there is nothing to refer to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from invigil.analysis import registry
from invigil.analysis.base import Detection
from invigil.kit.clock import iso
from invigil.protocol.policy import Policy

log = logging.getLogger("invigil.agent")


class LivePass:
    def __init__(self, policy: Policy) -> None:
        self.forbidden = tuple(policy.process_snapshots.forbidden)
        self.allowed_sites = tuple(policy.browser_history.allowed_sites)
        self._stream: Any = None  # perception.WebcamStream, once a frame arrives and the models exist
        self._no_stream = False

    def events(self, kind: str, plaintext: bytes, item_id: str, at: datetime) -> list[dict[str, Any]]:
        if kind == "webcam_frame" and (stream := self._webcam()) is not None:
            try:
                return as_events(stream.push(plaintext, item_id, at))
            except Exception:  # a frame the models cannot read must not stop capture
                log.exception("live webcam analysis failed on %s", item_id)
                return []
        capture = registry.Capture(kind, item_id, at, self.forbidden, self.allowed_sites)
        return as_events(registry.analyse(plaintext, capture))

    def finish(self) -> list[dict[str, Any]]:
        """Episodes still open when capture stops (the candidate looked away until the end)."""
        return as_events(self._stream.finish()) if self._stream is not None else []

    def _webcam(self) -> Any:
        if self._stream is None and not self._no_stream:
            try:
                from invigil.analysis.perception import WebcamStream
            except ImportError:  # the vision models are not installed: per-item analysers only
                self._no_stream = True
                return None
            self._stream = WebcamStream()
        return self._stream


def as_events(found: Iterable[Detection]) -> list[dict[str, Any]]:
    return [
        {
            "type": f"detection.{d.behaviour}",
            "at": iso(d.start),
            "score": round(d.score, 4),
            "data": {"end": iso(d.end), "evidence": [e for e in d.evidence if e], "facts": d.data},
        }
        for d in found
    ]
