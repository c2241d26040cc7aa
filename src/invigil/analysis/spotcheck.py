"""The detectors on files, for checking a result by hand (`invigil analyze FILE... --json`).

One JSON-ready dict per file: for an image the faces (boxes as fractions of the image, scores), the
head pose and the gaze; for a video the same for frames sampled every ``every`` seconds plus the
looking-away episodes the webcam stream finds in them (the baseline is the video's own start); for a
WAV file the speech segments. A file that cannot be read answers ``{"file": ..., "error": ...}``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from invigil.analysis import webcam
from invigil.analysis.audio import RATE, UnsupportedAudio, decode_wav, shared_voice
from invigil.analysis.vision import FrameFacts, UnreadableImage, prepare, shared_analyzer

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
T0 = datetime(2000, 1, 1, tzinfo=UTC)  # video time 0; episodes are reported in seconds from it


def analyse_file(path: Path, every: float = 0.5) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return {"file": str(path), "kind": "audio", **_audio(data)}
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return {"file": str(path), "kind": "video", **_video(path, every)}
        return {"file": str(path), "kind": "image", **facts_json(shared_analyzer().analyze(data))}
    except (OSError, UnreadableImage, UnsupportedAudio, ValueError) as exc:
        return {"file": str(path), "error": str(exc)}


def facts_json(facts: FrameFacts) -> dict[str, Any]:
    return {
        "width": facts.width,
        "height": facts.height,
        "faces": [
            {"box": [round(v, 4) for v in (f.x, f.y, f.width, f.height)], "score": round(f.score, 3)}
            for f in facts.faces
        ],
        "pose": None
        if facts.pose is None
        else {k: round(getattr(facts.pose, k), 1) for k in ("yaw", "pitch", "roll")},
        "gaze": None
        if facts.gaze is None
        else {k: round(getattr(facts.gaze, k), 3) for k in ("horizontal", "vertical")},
    }


def _audio(data: bytes) -> dict[str, Any]:
    samples = decode_wav(data)
    segments = shared_voice().segments(samples)
    return {
        "seconds": round(len(samples) / RATE, 2),
        "speech": [
            {"start": round(s.start, 2), "end": round(s.end, 2), "probability": round(s.probability, 3)}
            for s in segments
        ],
    }


def _video(path: Path, every: float) -> dict[str, Any]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError("not a video OpenCV can open")
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        step = max(1, round(fps * every))
        frames: list[dict[str, Any]] = []
        track = webcam.WebcamTrack()
        found = []
        index = 0
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            if index % step == 0:
                t = index / fps
                facts = shared_analyzer().analyze_rgb(prepare(np.asarray(bgr, dtype=np.uint8)))
                frames.append({"t": round(t, 2), **facts_json(facts)})
                found += track.push(f"{t:.2f}", T0 + timedelta(seconds=t), facts)
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ValueError("no frames could be read from the video")
    found += track.finish()
    return {
        "seconds": round(index / fps, 2),
        "frames": frames,
        "episodes": [
            {
                "behaviour": d.behaviour,
                "start": round((d.start - T0).total_seconds(), 2),
                "end": round((d.end - T0).total_seconds(), 2),
                "score": d.score,
            }
            for d in sorted(found, key=lambda d: (d.start, d.behaviour))
        ],
    }
