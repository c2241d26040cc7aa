"""What one webcam frame shows: how many faces, where, the head's pose and the eyes' gaze.

BlazeFace (mediapipe's legacy ``solutions.face_detection``) counts faces; FaceMesh with iris
landmarks (``solutions.face_mesh``, refine_landmarks) gives the main face's landmarks, from which
geometry.py derives the pose and the gaze. Both models ship inside the mediapipe 0.10.21 wheel:
nothing is downloaded. Thresholds and the model choice are measured in bench/accuracy.py and
explained in ADR 0008.

Dark frames (a mean grey level below DARK_BELOW of 255) are smoothed and brightened (``brighten``)
before both models see them: BlazeFace alone lost half the faces in a dark, noisy frame, and groups
unevenly (bench/accuracy.py, "lighting"). Other frames are passed on untouched.

Thread-safety: a mediapipe graph is not safe to call from two threads at once, so every
``FrameAnalyzer`` serialises its calls with a lock. Build one per process (``shared_analyzer()``)
or one per worker thread for parallelism.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from invigil.analysis.geometry import Gaze, Pose, gaze, head_pose

# Measured (bench/accuracy.py): BlazeFace short-range finds every usable webcam face at 0.5;
# below ~0.5 it starts to see faces in noise and textures.
FACE_THRESHOLD = 0.5
# A frame whose mean grey level (0-255) is below this is dark: brighten() lifts it before detection.
# Measured frames: normal light ~120, dim (x0.35) ~45, dark (x0.12) ~15.
DARK_BELOW = 40.0
# brighten() maps the smoothed frame's mean to this fraction of full scale with a gamma curve ...
DARK_TARGET = 0.45
# ... never steeper than this exponent (a near-black frame would otherwise turn into loud noise)
MIN_GAMMA = 0.25
# the Gaussian smoothing before brightening: averages away sensor noise that the gain would amplify
DARK_BLUR = 5
# FaceMesh looks at up to this many faces and pose and gaze come from the largest: with one, it
# took whichever face it found first (a frontal face in the background of AFLW2000's image00006
# instead of the large face turned 50° in front). Only frames with several faces pay for it
# (a three-face photo: 11.5 ms instead of 6.9 ms; bench/analysis_speed.py).
MESH_FACES = 3
# Frames are scaled so that their longer side is at most this before detection: webcam frames are
# never larger, and BlazeFace looks at 128x128 (short range) or 192x192 (full range) anyway.
MAX_SIDE = 1280
# mediapipe's Python wheel opens an OpenGL ES context (EGL) for each graph when it finds a display,
# although these graphs run on the CPU and never use it: on a candidate's desktop that loads the GL
# driver (Mesa's llvmpipe under Xvfb: ~60 MB resident, bench/agent_footprint.py). With no EGL vendor
# library to load (libglvnd reads this variable), mediapipe logs that GPU support is not available and
# runs the same CPU graphs, as on a server without a display. A value set by the user is kept.
NO_EGL = ("__EGL_VENDOR_LIBRARY_FILENAMES", os.devnull)


@dataclass(frozen=True)
class FaceBox:
    x: float  # left edge, as a fraction of the image width
    y: float  # top edge, as a fraction of the image height
    width: float
    height: float
    score: float  # BlazeFace's confidence, 0..1


@dataclass(frozen=True)
class FrameFacts:
    width: int
    height: int
    faces: tuple[FaceBox, ...]  # at or above the threshold, best first
    best_score: float  # the best face score seen, also below the threshold (0 when none)
    pose: Pose | None  # of the largest face, when FaceMesh found it
    gaze: Gaze | None

    @property
    def n_faces(self) -> int:
        return len(self.faces)


class UnreadableImage(ValueError):
    """The bytes are not an image OpenCV can decode (JPEG, PNG, ...)."""


def decode_image(data: bytes) -> NDArray[np.uint8]:
    """JPEG/PNG/... bytes -> RGB array, scaled down to MAX_SIDE."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImage("not a decodable image")
    return prepare(np.asarray(image, dtype=np.uint8))


def prepare(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """An OpenCV BGR image -> contiguous RGB, scaled down so that its longer side is at most MAX_SIDE."""
    height, width = bgr.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale < 1.0:
        size = (round(width * scale), round(height * scale))
        bgr = np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def largest(meshes: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """The landmarks (n, 2) of the face that spans the largest box in the image."""
    return max(meshes, key=lambda m: float(np.ptp(m[:, 0]) * np.ptp(m[:, 1])))


def is_dark(rgb: NDArray[np.uint8]) -> bool:
    """Is the frame's mean grey level below DARK_BELOW? (estimated on every 8th pixel: cheap)"""
    return float(rgb[::8, ::8].mean()) < DARK_BELOW


def brighten(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A dark frame smoothed and gamma-brightened so that its mean lands near DARK_TARGET; any other
    frame unchanged (the same array). A uniform black frame stays black."""
    if not is_dark(rgb):
        return rgb
    smooth = cv2.GaussianBlur(rgb, (DARK_BLUR, DARK_BLUR), 0)
    mean = max(float(smooth[::8, ::8].mean()), 1.0) / 255.0
    gamma = min(1.0, max(MIN_GAMMA, float(np.log(DARK_TARGET) / np.log(mean))))
    lut = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** gamma), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.LUT(smooth, lut), dtype=np.uint8)


class FrameAnalyzer:
    """Face count, boxes, head pose and gaze for single frames. Load once; reuse for every frame."""

    def __init__(
        self,
        *,
        threshold: float = FACE_THRESHOLD,
        full_range: bool = False,
        max_faces: int = MESH_FACES,
        brighten_dark: bool = True,
    ) -> None:
        os.environ.setdefault(*NO_EGL)  # before the graphs start (see NO_EGL)
        from mediapipe.python.solutions import face_detection, face_mesh  # heavy: import on first use

        self.threshold = threshold
        self.brighten_dark = brighten_dark  # False only to measure what brighten() is worth
        self._lock = threading.Lock()
        # detector threshold a little lower than ours, so that best_score says how close a miss was
        self._detector = face_detection.FaceDetection(
            model_selection=1 if full_range else 0, min_detection_confidence=min(threshold, 0.3)
        )
        self._mesh = face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=threshold,
        )

    def analyze(self, data: bytes) -> FrameFacts:
        """JPEG or PNG bytes -> FrameFacts. Raises UnreadableImage."""
        return self.analyze_rgb(decode_image(data))

    def analyze_rgb(self, rgb: NDArray[np.uint8]) -> FrameFacts:
        height, width = rgb.shape[:2]
        if self.brighten_dark:
            rgb = brighten(rgb)
        with self._lock:
            found = self._detector.process(rgb).detections or []
            boxes = sorted((_box(d) for d in found), key=lambda b: -b.score)
            faces = tuple(b for b in boxes if b.score >= self.threshold)
            mesh = self._mesh.process(rgb).multi_face_landmarks if faces else None
        pose = eyes = None
        if mesh:
            points = largest(
                [np.array([(p.x * width, p.y * height) for p in m.landmark], dtype=np.float64) for m in mesh]
            )
            pose = head_pose(points, width, height)
            eyes = gaze(points)
        return FrameFacts(
            width=width,
            height=height,
            faces=faces,
            best_score=boxes[0].score if boxes else 0.0,
            pose=pose,
            gaze=eyes,
        )

    def count_faces(self, rgb: NDArray[np.uint8]) -> tuple[FaceBox, ...]:
        """Only the face count and boxes (no FaceMesh): for counting in photos and benchmarks."""
        if self.brighten_dark:
            rgb = brighten(rgb)
        with self._lock:
            found = self._detector.process(rgb).detections or []
        boxes = sorted((_box(d) for d in found), key=lambda b: -b.score)
        return tuple(b for b in boxes if b.score >= self.threshold)

    def close(self) -> None:
        with self._lock:
            self._detector.close()
            self._mesh.close()


def _box(detection: Any) -> FaceBox:
    rel = detection.location_data.relative_bounding_box
    return FaceBox(
        x=float(rel.xmin),
        y=float(rel.ymin),
        width=float(rel.width),
        height=float(rel.height),
        score=float(detection.score[0]),
    )


@cache
def shared_analyzer() -> FrameAnalyzer:
    """The process's FrameAnalyzer with the default settings, loaded on first use."""
    return FrameAnalyzer()
