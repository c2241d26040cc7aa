"""Speed of the detectors (ADR 0008) on one pinned CPU core, against issue 4's goal of ≥ 100 frames
per second per core for face + pose + gaze at 640x480.

    .venv/bin/python bench/analysis_speed.py ../shared/media --json bench/results/analysis_speed.json

MEDIA (default ../shared/media) gives the audio for the real-time factor; the frames are the webcam
samples that ship with the agent. Without MEDIA the script stops with a message and exit status 2.
Medians of 200 runs; the process pins itself to one core (sched_setaffinity).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from labelled_media import LIGHTING, ROOT, SEED, arguments, pin_one_core, run

from invigil.analysis.audio import VoiceDetector, decode_wav
from invigil.analysis.vision import FrameAnalyzer, decode_image, prepare


def frames(analyzer: FrameAnalyzer, one_mesh: FrameAnalyzer, repeats: int = 200) -> dict[str, Any]:
    """``one_mesh``: FaceMesh asked for one face only, to show what looking at up to three costs."""
    group = decode_image((ROOT / "src/invigil/agent/samples/group_roland-samuel-unsplash.jpg").read_bytes())
    sample = ROOT / "src/invigil/agent/samples/webcam_center_focus_04s.jpg"
    data = sample.read_bytes()
    rgb = decode_image(data)
    canvas = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (640, 480))  # a 640x480 webcam frame
    big = prepare(canvas)
    spec = LIGHTING["dark"]  # the same frame in the dark: brighten() runs before both models
    noise = np.random.default_rng(SEED).normal(0.0, spec["noise"], canvas.shape)
    dark = prepare(np.clip(np.rint(canvas * spec["scale"] + noise), 0, 255).astype(np.uint8))
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("count only (BlazeFace), 270×480", lambda: analyzer.count_faces(rgb)),
        ("face+pose+gaze, 270×480", lambda: analyzer.analyze_rgb(rgb)),
        ("face+pose+gaze, 640×480", lambda: analyzer.analyze_rgb(big)),
        ("face+pose+gaze, 640×480 dark frame (brightened first)", lambda: analyzer.analyze_rgb(dark)),
        ("decode JPEG + face+pose+gaze, 270×480", lambda: analyzer.analyze(data)),
        (
            f"face+pose+gaze, group photo {group.shape[1]}×{group.shape[0]}",
            lambda: analyzer.analyze_rgb(group),
        ),
        (
            f"face+pose+gaze, group photo {group.shape[1]}×{group.shape[0]}, FaceMesh for one face only",
            lambda: one_mesh.analyze_rgb(group),
        ),
    ]
    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        for label, fn in cases:
            t = time.perf_counter()
            fn()
            timings[label].append((time.perf_counter() - t) * 1000)
    return {
        k: {
            "median_ms": round(statistics.median(v), 2),
            "frames_per_s_per_core": round(1000 / statistics.median(v)),
        }
        for k, v in timings.items()
    }


def audio(media: Path, detector: VoiceDetector, repeats: int = 3) -> dict[str, Any]:
    """Seconds of audio per second of work on one thread, over the speech and noise recordings."""
    paths = sorted((media / "vad_programy").glob("*/*.wav")) + sorted(
        (media / "ina_speech_segmenter/media").glob("*.wav")
    )
    clips = [decode_wav(p.read_bytes()) for p in paths]
    seconds = sum(len(c) for c in clips) / 16000
    took: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        for c in clips:
            detector.segments(c)
        took.append(time.perf_counter() - started)
    speech = [decode_wav(p.read_bytes()) for p in sorted((media / "vad_programy/speech").glob("*.wav"))]
    speech_seconds = sum(len(c) for c in speech) / 16000
    started = time.perf_counter()
    for c in speech:
        detector.segments(c)
    speech_took = time.perf_counter() - started
    return {
        "files": len(paths),
        "audio seconds": round(seconds, 1),
        "real-time factor, all files (median of 3)": round(seconds / statistics.median(took)),
        "real-time factor, continuous speech only (every chunk goes to Silero)": round(
            speech_seconds / speech_took
        ),
    }


def main() -> int:
    args = arguments(__doc__.splitlines()[0])
    core = pin_one_core()
    analyzer = FrameAnalyzer()
    run(
        [
            ("pinned to core", lambda: core),
            (
                "frames (webcam sample, 200 runs, median)",
                lambda: frames(analyzer, FrameAnalyzer(max_faces=1)),
            ),
            ("audio (Silero VAD, one thread)", lambda: audio(args.media, VoiceDetector())),
        ],
        args.json,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
