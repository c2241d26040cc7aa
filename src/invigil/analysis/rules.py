"""The exam's rules: which detections become flags, merged into episodes, and how they are coloured.

Per behaviour: on/off, a score threshold, a minimum duration, a severity (green, yellow, red) and a
gap tolerance (detections closer than this are one episode). The institution sets defaults; an exam
overrides them field by field. Validation messages are written for the coordinator who edits them.

No flag is a verdict. A flag asks a person to look; nothing in the software acts on one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invigil.analysis.base import BEHAVIOURS, Detection
from invigil.kit.errors import Invalid

Severity = Literal["green", "yellow", "red"]
SEVERITIES: tuple[str, ...] = ("green", "yellow", "red")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    min_duration_seconds: int = Field(default=0, ge=0, le=24 * 3600)
    severity: Severity = "yellow"
    gap_seconds: int = Field(default=120, ge=0, le=3600)


def _r(severity: Severity, threshold: float = 0.5, min_duration: int = 0, gap: int = 120) -> Rule:
    return Rule(severity=severity, threshold=threshold, min_duration_seconds=min_duration, gap_seconds=gap)


# The shipped defaults. An institution replaces them with its own (flags/service.py).
DEFAULT_RULES: dict[str, Rule] = {
    "face.absent": _r("yellow", 0.6, 10, 15),
    "face.multiple": _r("red", 0.6, 0, 30),
    "head.away": _r("green", 0.6, 10, 15),
    "gaze.away": _r("green", 0.6, 10, 15),
    "face.mismatch": _r("yellow", 0.5, 0, 300),
    "voice.speech": _r("yellow", 0.5, 3, 10),
    "process.forbidden": _r("red", 0.5, 0, 180),
    "browser.outside_allowed": _r("yellow", 0.5, 0, 300),
    "storage.removable": _r("yellow", 0.5, 0, 60),
    "focus.left": _r("green", 0.5, 10, 5),
    "network.offline": _r("green", 0.5, 60, 30),
    "activity.idle": _r("green", 0.5, 300, 0),
    "display.extra_monitor": _r("yellow", 0.5, 0, 60),
    "environment.virtual_machine": _r("yellow", 0.5, 0, 3600),
    "environment.remote_desktop": _r("red", 0.5, 0, 3600),
    "handin.near_duplicate": _r("yellow", 0.8, 0, 0),
}
assert set(DEFAULT_RULES) == set(BEHAVIOURS)


def _humanize(behaviour: str, error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = " ".join(str(p).replace("_", " ") for p in item["loc"])
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = (
                "is not a rule setting (use enabled, threshold, min_duration_seconds, severity, gap_seconds)"
            )
        elif item["type"] == "literal_error":
            msg = "must be green, yellow or red"
        parts.append(f"{behaviour} → {where}: {msg}")
    return "; ".join(parts)


def parse_rules(data: Any, base: Mapping[str, Rule] | None = None) -> dict[str, Rule]:
    """Rules for every behaviour: ``data`` ({behaviour: {field: value}}) over ``base``, field by field.

    Raises Invalid with a message that names the behaviour and the setting.
    """
    base = dict(base or DEFAULT_RULES)
    if data is None:
        return base
    if not isinstance(data, dict):
        raise Invalid(
            'The rules must map behaviours to their settings, e.g. {"focus.left": {"severity": "red"}}.'
        )
    problems = []
    out = dict(base)
    for behaviour, settings in data.items():
        if behaviour not in BEHAVIOURS:
            problems.append(
                f"{behaviour!r} is not a behaviour the software detects (see the list of behaviours)"
            )
            continue
        if not isinstance(settings, dict):
            problems.append(f'{behaviour}: give its settings as an object, e.g. {{"enabled": false}}')
            continue
        try:
            out[behaviour] = Rule.model_validate({**base[behaviour].model_dump(), **settings})
        except ValidationError as exc:
            problems.append(_humanize(behaviour, exc))
    if problems:
        raise Invalid(f"The flag rules are not valid: {'; '.join(problems)}.")
    return out


def dump_rules(rules: Mapping[str, Rule]) -> dict[str, dict[str, Any]]:
    return {b: rules[b].model_dump() for b in BEHAVIOURS if b in rules}


def overrides(rules: Mapping[str, Rule], base: Mapping[str, Rule]) -> dict[str, dict[str, Any]]:
    """Only what differs from ``base``: what an exam (or an institution) actually changed."""
    out = {}
    for b, rule in rules.items():
        diff = {k: v for k, v in rule.model_dump().items() if base[b].model_dump()[k] != v}
        if diff:
            out[b] = diff
    return out


@dataclass
class Episode:
    """Consecutive detections of one behaviour merged into one span: what a flag shows."""

    behaviour: str
    start: datetime
    end: datetime
    peak_score: float
    severity: str
    evidence: list[str] = field(default_factory=list)
    detections: int = 0
    data: dict[str, Any] = field(default_factory=dict)  # the peak detection's facts

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def episodes(detections: Iterable[Detection], rule: Rule) -> list[Episode]:
    """Merge one behaviour's detections (those at or above the threshold) into episodes.

    Detections closer than ``gap_seconds`` join the same episode; episodes shorter than
    ``min_duration_seconds`` are dropped. The result does not depend on the order of the input.
    """
    if not rule.enabled:
        return []
    kept = sorted(
        (d for d in detections if d.score >= rule.threshold),
        key=lambda d: (d.start, d.end, -d.score, d.evidence),
    )
    gap = timedelta(seconds=rule.gap_seconds)
    out: list[Episode] = []
    for d in kept:
        cur = out[-1] if out else None
        if cur is not None and d.behaviour == cur.behaviour and d.start <= cur.end + gap:
            cur.end = max(cur.end, d.end)
            if d.score > cur.peak_score:
                cur.peak_score, cur.data = d.score, dict(d.data)
            cur.evidence.extend(e for e in d.evidence if e not in cur.evidence)
            cur.detections += 1
        else:
            out.append(
                Episode(
                    d.behaviour, d.start, d.end, d.score, rule.severity, list(d.evidence), 1, dict(d.data)
                )
            )
    return [e for e in out if e.seconds >= rule.min_duration_seconds]


def apply(detections: Iterable[Detection], rules: Mapping[str, Rule]) -> list[Episode]:
    """Episodes of every behaviour, each by its own rule, ordered by start."""
    by_behaviour: dict[str, list[Detection]] = {}
    for d in detections:
        by_behaviour.setdefault(d.behaviour, []).append(d)
    out = []
    for behaviour, items in by_behaviour.items():
        out.extend(episodes(items, rules.get(behaviour, DEFAULT_RULES[behaviour])))
    return sorted(out, key=lambda e: (e.start, e.behaviour))
