"""WebcamTrack on made-up FrameFacts: runs, baselines, scores and order (no models needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from invigil.analysis.geometry import Gaze, Pose
from invigil.analysis.vision import FaceBox, FrameFacts
from invigil.analysis.webcam import HEAD_YAW_DEG, WebcamTrack, track

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def facts(n: int = 1, yaw: float = 0.0, pitch: float = 0.0, gaze: float = 0.0, best: float = 0.0
          ) -> FrameFacts:
    faces = tuple(FaceBox(0.1 * i, 0.1, 0.2, 0.3, 0.9 - 0.1 * i) for i in range(n))
    return FrameFacts(
        width=640, height=480, faces=faces, best_score=faces[0].score if faces else best,
        pose=Pose(yaw, pitch, 0.0) if n else None, gaze=Gaze(gaze, 0.0) if n else None,
    )


def frames(*items: FrameFacts) -> list[tuple[str, datetime, FrameFacts]]:
    return [(f"f{i}", T0 + timedelta(seconds=5 * i), f) for i, f in enumerate(items)]


def test_a_steady_candidate_yields_nothing() -> None:
    assert track(frames(*[facts(yaw=3, gaze=0.01) for _ in range(20)])) == []


def test_a_camera_to_the_side_is_the_baseline_not_looking_away() -> None:
    side = [facts(yaw=25.0, gaze=0.1) for _ in range(10)]
    assert track(frames(*side), baseline_frames=5) == []
    turned = track(frames(*side, facts(yaw=25.0 - HEAD_YAW_DEG - 10)), baseline_frames=5)
    assert [d.behaviour for d in turned] == ["head.away"]
    assert turned[0].evidence == ("f10",)
    assert turned[0].data["yaw"] == pytest.approx(-15.0)


def test_a_baseline_far_from_straight_ahead_is_not_trusted() -> None:
    away = [facts(yaw=60.0) for _ in range(6)]
    found = track(frames(*away), baseline_frames=5)
    assert [d.behaviour for d in found] == ["head.away"]
    assert len(found[0].evidence) == 6


def test_consecutive_frames_make_one_detection_and_a_gap_closes_it() -> None:
    found = track(frames(facts(), facts(0), facts(0), facts(), facts(0)), baseline_frames=1)
    absent = [d for d in found if d.behaviour == "face.absent"]
    assert [d.evidence for d in absent] == [("f1", "f2"), ("f4",)]
    assert absent[0].start == T0 + timedelta(seconds=5)
    assert absent[0].end == T0 + timedelta(seconds=10)
    assert absent[0].data["frames"] == 2
    assert absent[0].score == pytest.approx(1.0)


def test_an_almost_face_lowers_the_absence_score() -> None:
    (found,) = track(frames(facts(0, best=0.4)))
    assert found.behaviour == "face.absent"
    assert found.score == pytest.approx(0.6)


def test_a_second_face_is_scored_by_its_own_confidence() -> None:
    (found,) = track(frames(facts(), facts(3)), baseline_frames=1)
    assert found.behaviour == "face.multiple"
    assert found.score == pytest.approx(0.8)
    assert found.data["n_faces"] == 3


def test_gaze_is_judged_against_the_baseline_and_not_while_the_head_is_away() -> None:
    found = track(frames(facts(gaze=0.02), facts(gaze=0.02), facts(gaze=-0.1), facts(yaw=70, gaze=0.3)),
                  baseline_frames=2)
    assert [(d.behaviour, d.evidence) for d in found] == [("gaze.away", ("f2",)), ("head.away", ("f3",))]
    assert found[0].data["toward"] == "image-right"


def test_frames_out_of_order_are_refused() -> None:
    webcam = WebcamTrack()
    webcam.push("a", T0, facts())
    with pytest.raises(ValueError, match="order"):
        webcam.push("b", T0 - timedelta(seconds=1), facts())
