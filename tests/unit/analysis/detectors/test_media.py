"""The detectors on labelled real media from ../shared/media (skipped where that folder is absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from invigil.analysis.audio import VoiceDetector, decode_wav
from invigil.analysis.biometric import FaceVerifier
from invigil.analysis.vision import FrameAnalyzer, prepare
from invigil.analysis.webcam import GAZE_HORIZONTAL


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("path", "n"),
    [
        ("deepface/tests/unit/dataset/couple.jpg", 2),
        ("face_recognition/examples/two_people.jpg", 2),
        ("face_recognition/tests/test_images/obama.jpg", 1),
        ("face_recognition/tests/test_images/biden.jpg", 1),
        ("facenet_pytorch/history_8fd2255/data/test_images/noise/1.jpg", 0),
    ],
)
def test_face_count_matches_the_label(analyzer: FrameAnalyzer, media: Path, path: str, n: int) -> None:
    assert analyzer.analyze((media / path).read_bytes()).n_faces == n


def test_head_pose_error_on_aflw2000(analyzer: FrameAnalyzer, media: Path) -> None:
    errors = []
    for r in rows(media / "aflw2000_subset/LABELS.csv"):
        truth = [float(r[k]) for k in ("head_yaw_deg", "head_pitch_deg", "head_roll_deg")]
        if max(map(abs, truth)) > 90:
            continue
        pose = analyzer.analyze((media / "aflw2000_subset" / r["file"]).read_bytes()).pose
        if pose is not None:
            errors.append([abs(pose.yaw - truth[0]), abs(pose.pitch - truth[1]), abs(pose.roll - truth[2])])
    assert len(errors) >= 24
    yaw, pitch, roll = np.mean(errors, axis=0)
    assert yaw < 8
    assert pitch < 6
    assert roll < 4


def test_pose_comes_from_the_largest_face_not_a_face_behind(analyzer: FrameAnalyzer, media: Path) -> None:
    """AFLW2000's image00006: a large face turned 50.5° in front, a frontal face in the background."""
    facts = analyzer.analyze((media / "aflw2000_subset/data/JPEG/image00006.jpg").read_bytes())
    assert facts.pose is not None
    assert facts.pose.yaw > 30


def test_a_dark_noisy_version_of_a_utkface_crop_is_found(analyzer: FrameAnalyzer, media: Path) -> None:
    """The crops BlazeFace alone missed in the dark (brightness x0.12, noise 8) are found."""
    rng = np.random.default_rng(5)
    items = [r for r in rows(media / "utkface/LABELS.csv") if r["group"] == "Black"][:20]
    found = 0
    for r in items:
        crop = cv2.imread(str(media / "utkface" / r["file"]))
        canvas = np.full((480, 640, 3), 128, dtype=np.uint8)
        canvas[140:340, 220:420] = cv2.resize(crop, (200, 200))
        dark = canvas.astype(np.float32) * 0.12 + rng.normal(0.0, 8.0, canvas.shape)
        found += analyzer.analyze_rgb(prepare(np.clip(np.rint(dark), 0, 255).astype(np.uint8))).n_faces == 1
    assert found >= 19


def test_gaze_sees_the_glance_in_the_left_clip(analyzer: FrameAnalyzer, media: Path) -> None:
    cap = cv2.VideoCapture(str(media / "proctoring_ai/eye_tracking/center_left_center.mp4"))
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    values = {}
    for second in (1.0, 2.0, 3.0, 6.5, 7.5, 8.5, 12.0, 13.0):
        cap.set(cv2.CAP_PROP_POS_MSEC, second * 1000)
        ok, frame = cap.read()
        assert ok
        g = analyzer.analyze_rgb(prepare(frame)).gaze
        assert g is not None
        values[second] = g.horizontal
    cap.release()
    base = float(np.median([values[1.0], values[2.0], values[3.0]]))
    assert all(values[s] - base > GAZE_HORIZONTAL for s in (6.5, 7.5, 8.5))
    assert all(abs(values[s] - base) < GAZE_HORIZONTAL for s in (12.0, 13.0))


def test_voice_finds_the_words_and_ignores_recorded_noise(voice: VoiceDetector, media: Path) -> None:
    root = media / "vad_programy"
    samples = decode_wav((root / "speech/english1.wav").read_bytes())
    found = voice.segments(samples)
    words = [
        (float(r["start_s"]), float(r["end_s"]))
        for r in rows(root / "SEGMENTS.csv")
        if r["file"] == "speech/english1.wav"
    ]
    covered = sum(any(s.start <= (a + b) / 2 <= s.end for s in found) for a, b in words)
    assert covered / len(words) > 0.9
    assert found[0].start > 0.1
    assert found[-1].end < 21.87
    for name in (
        "noise/white_noise-16.wav",
        "noise/noise-free-sound-0012.wav",
        "noise/noise-free-sound-0151.wav",
    ):
        assert voice.segments(decode_wav((root / name).read_bytes())) == [], name
    silence = media / "ina_speech_segmenter/media/silence2sec.wav"
    assert voice.segments(decode_wav(silence.read_bytes())) == []


def test_verification_tells_people_apart(analyzer: FrameAnalyzer, media: Path) -> None:
    root = media / "face_recognition/tests/test_images"
    verifier = FaceVerifier((root / "obama.jpg").read_bytes(), analyzer)
    assert verifier.verify((root / "obama2.jpg").read_bytes()).band == "same"
    different = verifier.verify((root / "biden.jpg").read_bytes())
    assert different.band == "different"
    assert different.distance is not None
    assert different.distance >= 0.6
