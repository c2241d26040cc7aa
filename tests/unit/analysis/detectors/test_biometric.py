"""Opt-in verification on the shipped frames: coarse bands, never embeddings."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from invigil.analysis.biometric import SCORE_MARGIN, FaceVerifier, NoFace, band, main_face
from invigil.analysis.vision import FaceBox, FrameAnalyzer
from tests.unit.analysis.detectors.conftest import sample

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def verifier(analyzer: FrameAnalyzer) -> FaceVerifier:
    return FaceVerifier(sample("webcam_center_focus_01s.jpg"), analyzer)


def test_the_same_person_later_is_same(verifier: FaceVerifier) -> None:
    result = verifier.verify(sample("webcam_center_left_center_07s.jpg"))
    assert result.band == "same"
    assert result.distance is not None
    assert result.distance < 0.5
    assert verifier.detect(sample("webcam_center_focus_08s.jpg"), "w2", T0) == []


def test_someone_else_is_different_and_becomes_a_mismatch(verifier: FaceVerifier) -> None:
    group = sample("group_roland-samuel-unsplash.jpg")
    assert verifier.verify(group).band == "different"
    (found,) = verifier.detect(group, "w9", T0)
    assert found.behaviour == "face.mismatch"
    assert found.evidence == ("w9",)
    assert 0.5 <= found.score <= 1.0


def test_results_are_coarse_and_carry_no_embedding(verifier: FaceVerifier) -> None:
    result = verifier.verify(sample("webcam_center_focus_04s.jpg"))
    assert {f.name for f in dataclasses.fields(result)} == {"band", "distance"}
    assert result.distance is not None
    assert round(result.distance / 0.05, 6) == round(result.distance / 0.05)


def test_no_face_is_said_plainly(verifier: FaceVerifier, analyzer: FrameAnalyzer) -> None:
    blank = cv2.imencode(".jpg", np.zeros((480, 640, 3), np.uint8))[1].tobytes()
    assert verifier.verify(blank).band == "no face"
    with pytest.raises(NoFace):
        FaceVerifier(blank, analyzer)


def test_bands() -> None:
    assert [band(d) for d in (0.1, 0.49, 0.5, 0.59, 0.6, 0.9)] == [
        "same",
        "same",
        "unsure",
        "unsure",
        "different",
        "different",
    ]


def test_the_policy_sets_how_coarse_the_bands_are() -> None:
    assert [band(d, 2) for d in (0.3, 0.59, 0.6)] == ["same", "same", "different"]
    assert [band(d, 4) for d in (0.44, 0.5, 0.57, 0.6)] == ["same", "probably same", "unsure", "different"]
    assert band(0.75, 5) == "very different"
    # Whatever the count, "different" starts at the measured operating point.
    assert all(band(0.6, n) in ("different",) for n in (2, 3, 4))
    assert band(0.6, 5) == "different"
    with pytest.raises(ValueError, match="2 to 5 bands"):
        FaceVerifier(b"", bands=7)


def box(size: float, score: float) -> FaceBox:
    return FaceBox(x=0.1, y=0.1, width=size, height=size, score=score)


def test_the_compared_face_is_the_largest_confident_one() -> None:
    near, far = box(0.4, 0.9), box(0.1, 0.92)
    assert main_face((far, near)) == near  # both confident: the larger, nearer face
    logo = box(0.5, 0.70)  # a big, weak "face" in the background texture
    assert main_face((box(0.3, 0.95), logo)) == box(0.3, 0.95)
    assert main_face((box(0.3, 0.95), box(0.5, 0.95 - SCORE_MARGIN))) == box(0.5, 0.95 - SCORE_MARGIN)
    assert main_face((logo,)) == logo
