"""`invigil analyze`: the detectors on files, one JSON object per file, readable errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from invigil.agent.sources.sample import SAMPLES, reading_aloud, webcam_frames
from invigil.analysis.spotcheck import analyse_file


def test_image_answers_faces_pose_and_gaze(tmp_path: Path) -> None:
    r = analyse_file(Path(str(SAMPLES / "group_roland-samuel-unsplash.jpg")))
    assert r["kind"] == "image"
    assert len(r["faces"]) >= 2
    assert all(0 <= v <= 1 for f in r["faces"] for v in f["box"][:2])
    assert r["pose"] is not None
    assert set(r["pose"]) == {"yaw", "pitch", "roll"}


def test_video_frames_and_looking_away_episode(tmp_path: Path) -> None:
    video = tmp_path / "glance.avi"
    frames = [cv2.imdecode(np.frombuffer(f, np.uint8), cv2.IMREAD_COLOR) for f in webcam_frames("all")]
    focus, left = frames[0], frames[3]
    h, w = focus.shape[:2]
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 2.0, (w, h))
    for frame in [focus] * 6 + [left] * 4 + [focus] * 2:
        writer.write(frame)
    writer.release()
    r = analyse_file(video, every=0.5)
    assert r["kind"] == "video"
    assert len(r["frames"]) == 12
    (episode,) = r["episodes"]
    assert episode["behaviour"] == "gaze.away"
    assert episode["start"] == 3.0
    assert episode["end"] == 4.5


def test_wav_and_unreadable_files(tmp_path: Path) -> None:
    speech = tmp_path / "speech.wav"
    speech.write_bytes(reading_aloud())
    r = analyse_file(speech)
    assert r["kind"] == "audio"
    assert r["seconds"] == 7.6
    assert r["speech"]
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(b"not a photo")
    assert analyse_file(junk) == {"file": str(junk), "error": "not a decodable image"}
    assert "error" in analyse_file(tmp_path / "missing.wav")


def test_cli_prints_one_json_object_per_file_and_fails_on_a_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    image = str(SAMPLES / "webcam_center_focus_01s.jpg")
    run = subprocess.run(
        [sys.executable, "-m", "invigil.cli.main", "analyze", "--json", image, str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [len(x.get("faces", [])) for x in lines] == [1, 0]
    assert "error" in lines[1]
