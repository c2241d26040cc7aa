"""Head pose and gaze from FaceMesh landmarks: pure numpy and OpenCV, no models.

Head pose: cv2.solvePnP (SQPNP) fits a canonical 3D face to six FaceMesh landmarks; the angles come
from where the fitted face's normal and its eye line point in the camera frame (not RQDecomp3x3,
whose Euler order flips signs near ±90°). Conventions, checked against AFLW2000's labels:
positive yaw = face turned toward image-left, positive pitch = face tilted up, positive roll =
head tilted toward image-right (clockwise in the image).

Gaze: where each iris centre sits between its eye's corners (horizontal) and lids (vertical), as a
fraction: 0 = centred; about ±0.5 = at a corner. It is relative to the eye, so it does not move when
the head turns; the head's turn is `head.away`'s job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

# FaceMesh index -> canonical face (millimetres; x toward image-right, y up, z out of the face): the
# common six-point model with its depth stretched by 1.3, which halved the yaw error on AFLW2000
# (chosen on the AFLW2000 subset with the former bench/detectors.py; 1.0 overestimates turns, 1.6
# and more hurt pitch).
# Subject's right eye outer corner (33) and mouth corner (61) appear on image-left.
_MODEL_INDEX = (1, 152, 33, 263, 61, 291)
_MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip
        (0.0, -330.0, -84.5),  # chin
        (-225.0, 170.0, -175.5),  # right eye, outer corner
        (225.0, 170.0, -175.5),  # left eye, outer corner
        (-150.0, -150.0, -162.5),  # mouth, right corner
        (150.0, -150.0, -162.5),  # mouth, left corner
    ],
    dtype=np.float64,
)

# Fitted on FaceMesh landmarks, solvePnP with this model over-reads yaw (a face turned 22° reads
# ~31°), as raw landmark + solvePnP pipelines do: the raw yaw is divided by this scale. It is the
# median of raw/true yaw over the AFLW2000 subset's faces turned 10-60° (bench/accuracy.py; the
# leave-one-out fits range 1.18-1.38, and the benchmark reports the yaw error leave-one-out as well
# as with this in-sample value). Synthetic landmarks from the exact model need no scale (yaw_scale=1).
YAW_SCALE = 1.34

# (outer corner, inner corner, upper lid, lower lid, iris centre) for each eye in FaceMesh's indices
_EYES = ((33, 133, 159, 145, 468), (263, 362, 386, 374, 473))


@dataclass(frozen=True)
class Pose:
    yaw: float  # degrees
    pitch: float
    roll: float


@dataclass(frozen=True)
class Gaze:
    horizontal: float  # + = iris toward the subject's right (image-left when upright); 0 = centred
    vertical: float  # + = iris toward the upper lid


def head_pose(
    points: NDArray[np.float64], width: int, height: int, *, yaw_scale: float = YAW_SCALE
) -> Pose | None:
    """Pose from FaceMesh landmarks in pixels (shape (n, 2), n >= 292), or None when the fit fails.
    The yaw is divided by ``yaw_scale`` (YAW_SCALE: calibrated for FaceMesh's landmarks)."""
    image_points = np.ascontiguousarray(points[list(_MODEL_INDEX), :2], dtype=np.float64)
    focal = float(max(width, height))  # a plain webcam: about a 53° field of view, no distortion
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    ok, rvec, _tvec = cv2.solvePnP(_MODEL_POINTS, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    normal = rotation[:, 2]  # where the face looks, in camera coordinates (x right, y down, z ahead)
    across = rotation[:, 0]  # the eye line, from the subject's right eye to the left one
    yaw = math.degrees(math.atan2(-normal[0], -normal[2])) / yaw_scale
    pitch = math.degrees(math.atan2(-normal[1], math.hypot(normal[0], normal[2])))
    # the eye line's tilt within the face's plane, so that yaw and pitch do not leak into roll
    level = np.cross(normal, (0.0, 1.0, 0.0))
    level /= max(float(np.linalg.norm(level)), 1e-9)
    up = np.cross(normal, level)
    roll = math.degrees(math.atan2(-float(across @ up), float(across @ level)))
    return Pose(yaw=yaw, pitch=pitch, roll=roll)


def gaze(points: NDArray[np.float64]) -> Gaze | None:
    """Iris position between the eye corners and lids, averaged over both eyes (needs the iris points)."""
    if len(points) < 478:
        return None
    horizontal, vertical = [], []
    for outer, inner, upper, lower, iris in _EYES:
        a, b, c = points[outer, :2], points[inner, :2], points[iris, :2]
        axis = b - a
        span = float(axis @ axis)
        lid = points[lower, :2] - points[upper, :2]
        lid_span = float(lid @ lid)
        if span < 1.0 or lid_span < 0.25:
            return None  # eye too small to say anything
        t = float((c - a) @ axis) / span  # 0 at the outer corner, 1 at the inner one
        # "toward the subject's right" (image-left in an upright, mirrored-free frame): the right
        # eye's outer corner and the left eye's inner corner are on that side
        horizontal.append((0.5 - t) if outer == _EYES[0][0] else (t - 0.5))
        s = float((c - points[upper, :2]) @ lid) / lid_span  # 0 at the upper lid, 1 at the lower one
        vertical.append(0.5 - s)
    return Gaze(horizontal=float(np.mean(horizontal)), vertical=float(np.mean(vertical)))
