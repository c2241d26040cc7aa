"""Head pose and gaze maths on synthetic landmarks: known rotations in, the same angles out."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from invigil.analysis.geometry import _EYES, _MODEL_INDEX, _MODEL_POINTS, YAW_SCALE, gaze, head_pose

W, H = 640, 480


def landmarks(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Project the canonical face, turned by the given angles, as FaceMesh would report it (pixels)."""
    # camera frame: x right, y down, z ahead; the face looks at the camera when unrotated
    facing = np.diag([1.0, -1.0, -1.0])
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    turn_yaw = cv2.Rodrigues(np.array([0.0, y, 0.0]))[0]  # positive: toward image-left
    turn_pitch = cv2.Rodrigues(np.array([-p, 0.0, 0.0]))[0]  # positive: up
    turn_roll = cv2.Rodrigues(np.array([0.0, 0.0, r]))[0]  # positive: clockwise in the image
    rotation = turn_roll @ turn_yaw @ turn_pitch @ facing
    camera = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1]], dtype=np.float64)
    projected, _ = cv2.projectPoints(
        _MODEL_POINTS, cv2.Rodrigues(rotation)[0], np.array([0, 0, 1500.0]), camera, np.zeros(4)
    )
    points = np.zeros((478, 2))
    points[list(_MODEL_INDEX)] = projected.reshape(-1, 2)
    return points


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(0, 0, 0), (30, 0, 0), (-45, 0, 0), (0, 20, 0), (0, -25, 0), (0, 0, 15), (0, 0, -20), (25, -15, 0)],
)
def test_head_pose_recovers_the_angles_with_the_aflw_signs(yaw: float, pitch: float, roll: float) -> None:
    pose = head_pose(landmarks(yaw, pitch, roll), W, H, yaw_scale=1.0)  # the exact model: no calibration
    assert pose is not None
    assert pose.yaw == pytest.approx(yaw, abs=1.5)
    assert pose.pitch == pytest.approx(pitch, abs=1.5)
    assert pose.roll == pytest.approx(roll, abs=1.5)


@pytest.mark.parametrize("yaw", [-45, -20, 0, 12, 40])
def test_the_shipped_pose_divides_the_yaw_by_the_calibrated_scale(yaw: float) -> None:
    """FaceMesh landmarks make solvePnP over-read yaw; by default the yaw is divided by YAW_SCALE,
    and nothing else changes."""
    exact = head_pose(landmarks(yaw, -10, 5), W, H, yaw_scale=1.0)
    shipped = head_pose(landmarks(yaw, -10, 5), W, H)
    assert exact is not None
    assert shipped is not None
    assert shipped.yaw == pytest.approx(exact.yaw / YAW_SCALE)
    assert (shipped.pitch, shipped.roll) == (exact.pitch, exact.roll)


def test_the_yaw_scale_is_in_the_range_such_pipelines_over_read() -> None:
    assert 1.2 <= YAW_SCALE <= 1.7


def eyes(shift: float) -> np.ndarray:
    """Two eyes 60 px wide, irises moved ``shift`` of the width toward image-left (subject's right)."""
    points = np.zeros((478, 2))
    for (outer, inner, upper, lower, iris), centre in zip(_EYES, (200.0, 400.0), strict=True):
        side = -1.0 if outer == _EYES[0][0] else 1.0  # the right eye's outer corner is on image-left
        points[outer] = (centre + side * 30, 240)
        points[inner] = (centre - side * 30, 240)
        points[upper] = (centre, 230)
        points[lower] = (centre, 250)
        points[iris] = (centre - shift * 60, 240)
    return points


def test_gaze_is_zero_when_centred_and_signed_toward_image_left() -> None:
    centred = gaze(eyes(0.0))
    assert centred is not None
    assert centred.horizontal == pytest.approx(0.0, abs=1e-9)
    assert centred.vertical == pytest.approx(0.0, abs=1e-9)
    left = gaze(eyes(0.2))
    assert left is not None
    assert left.horizontal == pytest.approx(0.2)
    right = gaze(eyes(-0.1))
    assert right is not None
    assert right.horizontal == pytest.approx(-0.1)


def test_gaze_needs_the_iris_points() -> None:
    assert gaze(np.zeros((468, 2))) is None
    assert gaze(np.zeros((478, 2))) is None  # eyes of zero size say nothing
