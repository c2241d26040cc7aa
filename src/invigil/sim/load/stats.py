"""What the simulated agents measured: one latency per attempt, per endpoint, and the errors."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from invigil.agent.client import ProtocolError

ENDPOINTS = ("activate", "heartbeat", "events", "evidence")


@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)  # seconds, one per attempt
    started: list[float] = field(default_factory=list)  # event-loop time of each attempt's start
    ok: int = 0
    failed: int = 0  # attempts that failed, transient or not
    retries: int = 0
    gave_up: int = 0  # calls that never succeeded


@dataclass
class Stats:
    endpoints: dict[str, EndpointStats] = field(
        default_factory=lambda: {e: EndpointStats() for e in ENDPOINTS}
    )
    errors: Counter[str] = field(default_factory=Counter)

    def attempt(self, endpoint: str, started: float, seconds: float, error: str | None = None) -> None:
        s = self.endpoints[endpoint]
        s.latencies.append(seconds)
        s.started.append(started)
        if error is None:
            s.ok += 1
        else:
            s.failed += 1
            self.errors[f"{endpoint}: {error}"] += 1

    def steady(self, since: float) -> list[float]:
        """Latencies of attempts started at or after ``since`` (after the arrivals), all endpoints."""
        return [
            latency
            for s in self.endpoints.values()
            for latency, started in zip(s.latencies, s.started, strict=True)
            if started >= since
        ]

    def started_between(self, since: float, until: float) -> int:
        """How many attempts started in [since, until)."""
        return sum(1 for s in self.endpoints.values() for t in s.started if since <= t < until)

    @property
    def requests(self) -> int:
        return sum(len(s.latencies) for s in self.endpoints.values())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of unsorted values (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def error_kind(exc: Exception) -> str:
    if isinstance(exc, ProtocolError):
        return f"{exc.status} {exc.body.get('error', '')}".strip()
    text = str(exc)
    return "transient " + (text.split(":", 1)[0] if ":" in text else text)
