"""Face count, pose and gaze on frames that ship with Invigil (no external media needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from invigil.analysis.vision import FrameAnalyzer, UnreadableImage, brighten, is_dark, largest
from invigil.analysis.webcam import track
from tests.unit.analysis.detectors.conftest import sample

CENTRE = ("webcam_center_focus_01s.jpg", "webcam_center_focus_04s.jpg", "webcam_center_focus_08s.jpg")
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


def test_a_blank_frame_has_no_face(analyzer: FrameAnalyzer) -> None:
    for colour in (0, 128, 255):
        facts = analyzer.analyze(jpeg(np.full((480, 640, 3), colour, dtype=np.uint8)))
        assert facts.n_faces == 0
        assert facts.pose is None
        assert facts.gaze is None
        assert (facts.width, facts.height) == (640, 480)


def test_random_noise_has_no_face(analyzer: FrameAnalyzer) -> None:
    noise = np.random.default_rng(7).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert analyzer.analyze(jpeg(noise)).n_faces == 0


SIDES = ("webcam_center_left_center_07s.jpg", "webcam_center_right_center_07s.jpg")


@pytest.mark.parametrize("name", [*CENTRE, *SIDES])
def test_each_shipped_webcam_frame_has_one_frontal_face(analyzer: FrameAnalyzer, name: str) -> None:
    facts = analyzer.analyze(sample(name))
    assert facts.n_faces == 1
    assert facts.faces[0].score > 0.7
    assert facts.pose is not None
    assert abs(facts.pose.yaw) < 15
    assert abs(facts.pose.pitch) < 20
    assert facts.gaze is not None


def test_the_group_photo_has_several_faces(analyzer: FrameAnalyzer) -> None:
    assert analyzer.analyze(sample("group_roland-samuel-unsplash.jpg")).n_faces >= 2


def test_the_eyes_move_between_the_centre_and_the_side_frames(analyzer: FrameAnalyzer) -> None:
    centre = [analyzer.analyze(sample(n)).gaze for n in CENTRE]
    left = analyzer.analyze(sample("webcam_center_left_center_07s.jpg")).gaze
    right = analyzer.analyze(sample("webcam_center_right_center_07s.jpg")).gaze
    assert all(g is not None for g in centre)
    assert left is not None
    assert right is not None
    base = float(np.median([g.horizontal for g in centre if g is not None]))
    assert left.horizontal - base > 0.05  # the clip's "left" is toward the subject's right
    assert base - right.horizontal > 0.05


def test_a_turned_head_reads_as_yaw(analyzer: FrameAnalyzer) -> None:
    """Mirroring the frame turns the head the other way: the yaw changes sign."""
    frame = cv2.imdecode(np.frombuffer(sample("webcam_center_focus_04s.jpg"), np.uint8), cv2.IMREAD_COLOR)
    straight = analyzer.analyze(jpeg(frame)).pose
    mirrored = analyzer.analyze(jpeg(cv2.flip(frame, 1))).pose
    assert straight is not None
    assert mirrored is not None
    assert mirrored.yaw == pytest.approx(-straight.yaw, abs=3)


def test_bytes_that_are_no_image_are_refused(analyzer: FrameAnalyzer) -> None:
    with pytest.raises(UnreadableImage):
        analyzer.analyze(b"not a jpeg")


def test_a_session_of_shipped_frames_yields_the_expected_detections(analyzer: FrameAnalyzer) -> None:
    blank = jpeg(np.zeros((480, 270, 3), dtype=np.uint8))
    names = [
        *CENTRE,
        "webcam_center_left_center_07s.jpg",
        None,
        None,
        "group_roland-samuel-unsplash.jpg",
        CENTRE[0],
    ]
    frames = []
    for i, name in enumerate(names):
        facts = analyzer.analyze(blank if name is None else sample(name))
        frames.append((f"item-{i}", T0 + timedelta(seconds=10 * i), facts))
    found = track(frames, baseline_frames=3)
    by_behaviour = {d.behaviour: d for d in found}
    assert set(by_behaviour) >= {"gaze.away", "face.absent", "face.multiple"}
    assert by_behaviour["gaze.away"].evidence == ("item-3",)
    absent = by_behaviour["face.absent"]
    assert absent.evidence == ("item-4", "item-5")
    assert (absent.start, absent.end) == (T0 + timedelta(seconds=40), T0 + timedelta(seconds=50))
    assert absent.score > 0.5
    assert by_behaviour["face.multiple"].evidence == ("item-6",)
    assert by_behaviour["face.multiple"].data["n_faces"] >= 2
    assert all(d.evidence != ("item-7",) for d in found)  # back to normal: nothing to report


def darkened(image: np.ndarray, scale: float, noise: float, seed: int) -> np.ndarray:
    """A frame as a cheap webcam in a dark room gives it: brightness scaled down, sensor noise added."""
    rng = np.random.default_rng(seed)
    frame = image.astype(np.float32) * scale + rng.normal(0.0, noise, image.shape).astype(np.float32)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def test_brighten_leaves_a_normally_lit_frame_alone() -> None:
    rgb = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(sample(CENTRE[1]), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
    assert not is_dark(rgb)
    assert brighten(rgb) is rgb


def test_brighten_lifts_a_dark_frame_and_keeps_black_black() -> None:
    black = np.zeros((480, 640, 3), dtype=np.uint8)
    assert is_dark(black)
    assert brighten(black).max() == 0
    dark = darkened(np.full((480, 640, 3), 128, dtype=np.uint8), 0.12, 8.0, seed=1)
    assert is_dark(dark)
    lifted = brighten(dark)
    assert lifted.shape == dark.shape
    assert lifted.dtype == np.uint8
    assert 80 < float(lifted.mean()) < 150  # near DARK_TARGET of full scale
    assert (
        float(lifted.std()) < float(dark.std()) * 255 / 15
    )  # smoothed: the noise is not amplified as much as the signal


def test_a_face_in_a_dark_noisy_frame_is_found(analyzer: FrameAnalyzer) -> None:
    frame = cv2.imdecode(np.frombuffer(sample(CENTRE[1]), np.uint8), cv2.IMREAD_COLOR)
    frame = cv2.resize(frame, (640, 480))
    for seed in range(3):
        facts = analyzer.analyze(jpeg(darkened(frame, 0.12, 8.0, seed)))
        assert facts.n_faces == 1
        assert facts.pose is not None


@pytest.mark.parametrize(("level", "noise"), [(0, 2.0), (0, 8.0), (4, 3.0), (15, 8.0), (15, 20.0), (35, 6.0)])
def test_dark_empty_frames_have_no_face_after_brightening(
    analyzer: FrameAnalyzer, level: int, noise: float
) -> None:
    """Brightening amplifies sensor noise: it must not turn into faces."""
    for seed in range(5):
        frame = darkened(np.full((480, 640, 3), level, dtype=np.uint8), 1.0, noise, seed)
        assert is_dark(frame)
        assert analyzer.analyze(jpeg(frame)).n_faces == 0
        assert not analyzer.count_faces(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))


def test_brightening_can_be_switched_off_to_measure_it() -> None:
    assert FrameAnalyzer(brighten_dark=False).brighten_dark is False


def test_pose_and_gaze_come_from_the_largest_mesh() -> None:
    def square(x: float, y: float, side: float) -> np.ndarray:
        return np.array([(x, y), (x + side, y), (x, y + side), (x + side, y + side)], dtype=np.float64)

    behind, front = square(10, 10, 40), square(200, 100, 180)
    assert largest([behind, front]) is front
    assert largest([front, behind]) is front
    assert largest([behind]) is behind
