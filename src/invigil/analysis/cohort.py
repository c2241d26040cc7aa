"""Cohort aggregates for the reviewer: each candidate against the exam's own distribution.

There is no "normal profile" of a person: a candidate's numbers are placed among the same exam's
candidates (median, quartiles, percentile) and nothing more. Pure functions over plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CandidateFacts:
    session_id: str
    pseudonym: str
    activated_at: datetime | None
    handed_in_at: datetime | None
    flags: Mapping[str, int] = field(default_factory=dict)  # severity -> count
    timeline: Sequence[tuple[datetime, str, str]] = ()  # (when, what, detail)


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (the same as numpy's default)."""
    if not values:
        raise ValueError("no values")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def percentile_of(values: Sequence[float], x: float) -> float:
    """Share of the cohort at or below ``x`` (ties count half), in percent."""
    if not values:
        return 0.0
    below = sum(v < x for v in values)
    equal = sum(v == x for v in values)
    return round(100.0 * (below + 0.5 * equal) / len(values), 1)


def distribution(values: Sequence[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(quantile(values, 0.5), 1),
        "q1": round(quantile(values, 0.25), 1),
        "q3": round(quantile(values, 0.75), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
    }


def aggregate(exam_start: datetime, candidates: Sequence[CandidateFacts]) -> dict[str, Any]:
    """Start time, time to hand-in and flags per candidate, each against the exam's distribution."""
    start = {
        c.session_id: (c.activated_at - exam_start).total_seconds() for c in candidates if c.activated_at
    }
    to_handin = {
        c.session_id: (c.handed_in_at - c.activated_at).total_seconds()
        for c in candidates
        if c.activated_at and c.handed_in_at
    }
    flags = {c.session_id: float(sum(c.flags.values())) for c in candidates if c.activated_at}
    metrics = {"start_offset_seconds": start, "time_to_handin_seconds": to_handin, "flags": flags}
    rows = []
    for c in candidates:
        row: dict[str, Any] = {
            "session_id": c.session_id,
            "candidate": c.pseudonym,
            "flags_by_severity": dict(c.flags),
        }
        for name, values in metrics.items():
            if c.session_id in values:
                v = values[c.session_id]
                row[name] = {"value": round(v, 1), "percentile": percentile_of(list(values.values()), v)}
        row["timeline"] = [
            {"at": at.isoformat(), "what": what, "detail": detail} for at, what, detail in sorted(c.timeline)
        ]
        rows.append(row)
    return {
        "distribution": {name: distribution(list(values.values())) for name, values in metrics.items()},
        "candidates": rows,
    }
