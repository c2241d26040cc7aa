from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from invigil.analysis import rules
from invigil.analysis.base import BEHAVIOURS, Detection
from invigil.kit.errors import Invalid

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def det(
    start: float, end: float, score: float = 0.9, item: str = "", behaviour: str = "face.absent"
) -> Detection:
    return Detection(
        behaviour, score, T0 + timedelta(seconds=start), T0 + timedelta(seconds=end), (item,) if item else ()
    )


def test_defaults_cover_every_behaviour_and_overrides_merge_field_by_field() -> None:
    parsed = rules.parse_rules({"focus.left": {"severity": "red"}})
    assert set(parsed) == set(BEHAVIOURS)
    assert parsed["focus.left"].severity == "red"
    assert parsed["focus.left"].min_duration_seconds == rules.DEFAULT_RULES["focus.left"].min_duration_seconds
    assert rules.overrides(parsed, rules.DEFAULT_RULES) == {"focus.left": {"severity": "red"}}
    # An exam's changes sit on top of the institution's, not the shipped defaults.
    base = rules.parse_rules({"focus.left": {"min_duration_seconds": 60}})
    exam = rules.parse_rules({"focus.left": {"severity": "red"}}, base)
    assert (exam["focus.left"].min_duration_seconds, exam["focus.left"].severity) == (60, "red")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"face.gone": {"enabled": False}}, "'face.gone' is not a behaviour"),
        ({"focus.left": {"severity": "purple"}}, "focus.left → severity: must be green, yellow or red"),
        ({"focus.left": {"threshold": 1.5}}, "focus.left → threshold"),
        ({"focus.left": {"min_duration_seconds": -1}}, "focus.left → min duration seconds"),
        ({"focus.left": {"colour": "red"}}, "is not a rule setting"),
        ({"focus.left": True}, "give its settings as an object"),
        (["focus.left"], "must map behaviours"),
    ],
)
def test_invalid_rules_get_messages_a_coordinator_can_act_on(doc: object, message: str) -> None:
    with pytest.raises(Invalid) as exc:
        rules.parse_rules(doc)
    assert message in exc.value.message


def test_episodes_merge_within_the_gap_and_drop_short_ones() -> None:
    rule = rules.Rule(threshold=0.5, min_duration_seconds=10, gap_seconds=5, severity="yellow")
    dets = [det(0, 4, 0.7, "a"), det(6, 12, 0.95, "b"), det(30, 31, 0.9, "c"), det(100, 150, 0.3, "d")]
    eps = rules.episodes(dets, rule)
    assert len(eps) == 1  # 30-31 is too short; 100-150 is below the threshold
    ep = eps[0]
    assert (ep.start, ep.end) == (T0, T0 + timedelta(seconds=12))
    assert (ep.peak_score, ep.detections, ep.evidence, ep.severity) == (0.95, 2, ["a", "b"], "yellow")


def test_episodes_do_not_depend_on_input_order_and_respect_off() -> None:
    rule = rules.Rule(gap_seconds=3)
    dets = [det(i * 2, i * 2 + 1, 0.6 + (i % 3) / 10, f"i{i}") for i in range(20)] + [det(100, 101)]
    expected = rules.episodes(dets, rule)
    shuffled = dets[:]
    random.Random(4).shuffle(shuffled)
    assert rules.episodes(shuffled, rule) == expected
    assert len(expected) == 2
    assert rules.episodes(dets, rules.Rule(enabled=False)) == []


def test_apply_uses_each_behaviours_rule() -> None:
    parsed = rules.parse_rules(
        {"face.absent": {"min_duration_seconds": 0}, "voice.speech": {"enabled": False}}
    )
    eps = rules.apply([det(0, 1), det(5, 6, behaviour="voice.speech")], parsed)
    assert [e.behaviour for e in eps] == ["face.absent"]
