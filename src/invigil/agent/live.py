"""The agent's live pass: registered analysers on each capture's plaintext, before it is sealed.

Their detections travel as events ``detection.<behaviour>`` with a score and the span in ``data``;
severity is the exam's rules' business, decided on the server. The server stores them as
agent-source detections; the institution's worker re-analyses the sealed items authoritatively.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from invigil.analysis import registry
from invigil.kit.clock import iso
from invigil.protocol.policy import Policy


class LivePass:
    def __init__(self, policy: Policy) -> None:
        self.forbidden = tuple(policy.process_snapshots.forbidden)
        self.allowed_sites = tuple(policy.browser_history.allowed_sites)

    def events(self, kind: str, plaintext: bytes, item_id: str, at: datetime) -> list[dict[str, Any]]:
        capture = registry.Capture(kind, item_id, at, self.forbidden, self.allowed_sites)
        return [
            {
                "type": f"detection.{d.behaviour}",
                "at": iso(d.start),
                "score": round(d.score, 4),
                "data": {"end": iso(d.end), "evidence": list(d.evidence), "facts": d.data},
            }
            for d in registry.analyse(plaintext, capture)
        ]
