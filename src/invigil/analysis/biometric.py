"""Opt-in biometric verification: is the face in a frame the face in the reference photo?

dlib's 128-D ResNet face descriptor (the model files ship in ``face_recognition_models``), aligned
with its 5-point shape predictor, on the largest confident face BlazeFace finds (``main_face``). Off
by default: an exam turns it on explicitly, and then the candidate is told.

Deliberately coarse: callers get a similarity band ("same", "unsure", "different") and a distance
rounded to 0.05, never an embedding. The reference embedding lives only in the ``FaceVerifier``'s
memory for the exam; nothing here stores or returns embeddings.

Thread-safety: dlib's models are not documented as thread-safe; each FaceVerifier locks its calls.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from invigil.analysis.base import Detection
from invigil.analysis.vision import FaceBox, FrameAnalyzer, decode_image

# dlib's own operating point for this model (99.38% on LFW); measured on deepface's pairs in
# bench/accuracy.py. Below SAME_BELOW: "same"; from MISMATCH_ABOVE: "different"; between: "unsure".
SAME_BELOW = 0.5
MISMATCH_ABOVE = 0.6
# The exam's policy says how coarse the answer is (face_verification.score_bands, 2..5 bands). The
# "different" edge is always the measured operating point; more bands only split the rest.
BANDS: dict[int, tuple[tuple[float, ...], tuple[str, ...]]] = {
    2: ((MISMATCH_ABOVE,), ("same", "different")),
    3: ((SAME_BELOW, MISMATCH_ABOVE), ("same", "unsure", "different")),
    4: ((0.45, 0.55, MISMATCH_ABOVE), ("same", "probably same", "unsure", "different")),
    5: (
        (0.4, SAME_BELOW, MISMATCH_ABOVE, 0.7),
        ("same", "probably same", "unsure", "different", "very different"),
    ),
}
UNSURE_SCORE = 0.25  # below the default rule's threshold: on the timeline, not a flag
MARGIN = 0.15  # the BlazeFace box is grown by this fraction per side: dlib's predictor wants the brow
# The face compared is the largest of those scored within this of the best face: BlazeFace can see a
# big, weak "face" in a textured background (0.70 on a White House logo next to a 0.95 face in
# face_recognition's obama1.jpg), and comparing that made a genuine pair look like two people.
SCORE_MARGIN = 0.15


class NoFace(ValueError):
    """No face was found in the reference photo."""


@dataclass(frozen=True)
class Verification:
    band: str  # "same", "unsure", "different", or "no face"
    distance: float | None  # rounded to 0.05; None without a face


def _model_file(name: str) -> str:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (it ships dlib's model files)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"dlib model file is missing: {path}")
    return str(path)


@cache
def _dlib_models() -> tuple[Any, Any]:
    import dlib

    shape = dlib.shape_predictor(_model_file("shape_predictor_5_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(_model_file("dlib_face_recognition_resnet_model_v1.dat"))
    return shape, encoder


class FaceVerifier:
    """Compares later frames with one reference photo."""

    def __init__(self, reference: bytes, analyzer: FrameAnalyzer | None = None, bands: int = 3) -> None:
        if bands not in BANDS:
            raise ValueError(f"face verification reports 2 to 5 bands, not {bands}")
        self.bands = bands
        self._analyzer = analyzer or FrameAnalyzer(max_faces=1)
        self._lock = threading.Lock()
        embedding = self._embed(decode_image(reference))
        if embedding is None:
            raise NoFace("no face in the reference photo")
        self._reference = embedding

    def verify(self, frame: bytes) -> Verification:
        """The similarity band of the largest face in the frame against the reference."""
        embedding = self._embed(decode_image(frame))
        if embedding is None:
            return Verification("no face", None)
        distance = float(np.linalg.norm(embedding - self._reference))
        return Verification(band(distance, self.bands), round(round(distance / 0.05) * 0.05, 2))

    def detect(self, frame: bytes, client_id: str, captured_at: datetime) -> list[Detection]:
        """``face.mismatch`` for every frame whose face is not in the "same" band: the similarity over
        time, coarse. From the "different" edge on the score reaches the default rule's threshold."""
        result = self.verify(frame)
        if result.distance is None or result.band == "same":
            return []
        if result.distance >= MISMATCH_ABOVE:
            score = min(1.0, 0.5 + (result.distance - MISMATCH_ABOVE))
        else:
            score = UNSURE_SCORE
        return [
            Detection(
                behaviour="face.mismatch",
                score=round(score, 2),
                start=captured_at,
                end=captured_at,
                evidence=(client_id,),
                data={"band": result.band, "distance": result.distance},
            )
        ]

    def _embed(self, rgb: NDArray[np.uint8]) -> NDArray[np.float64] | None:
        import dlib

        faces = self._analyzer.count_faces(rgb)
        if not faces:
            return None
        face = main_face(faces)
        height, width = rgb.shape[:2]
        dx, dy = face.width * MARGIN, face.height * MARGIN
        box = dlib.rectangle(
            max(0, round((face.x - dx) * width)),
            max(0, round((face.y - dy) * height)),
            min(width - 1, round((face.x + face.width + dx) * width)),
            min(height - 1, round((face.y + face.height + dy) * height)),
        )
        shape, encoder = _dlib_models()
        with self._lock:
            landmarks = shape(rgb, box)
            return np.asarray(encoder.compute_face_descriptor(rgb, landmarks), dtype=np.float64)


def main_face(faces: tuple[FaceBox, ...]) -> FaceBox:
    """The face to compare: the largest of those scored within SCORE_MARGIN of the best one."""
    best = max(f.score for f in faces)
    return max((f for f in faces if f.score >= best - SCORE_MARGIN), key=lambda b: b.width * b.height)


def band(distance: float, bands: int = 3) -> str:
    edges, labels = BANDS[bands]
    return labels[sum(distance >= edge for edge in edges)]
