"""Accuracy and speed of the detectors on the labelled media in ../shared/media.

    .venv/bin/python bench/detectors.py [--media PATH] [--json PATH]

Pinned to one CPU core (sched_setaffinity) so that the speed numbers are per core. Prints Markdown
for docs/benchmarks.md ("Detectors"). Every number comes from the labels in the media's LABELS.csv,
SEGMENTS.csv and PAIRS.csv; see ADR 0008 for what each measures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from invigil.analysis.audio import VoiceDetector, decode_wav
from invigil.analysis.biometric import MISMATCH_ABOVE, SAME_BELOW, FaceVerifier
from invigil.analysis.vision import FrameAnalyzer, decode_image, prepare
from invigil.analysis.webcam import GAZE_HORIZONTAL

ROOT = Path(__file__).resolve().parents[1]
# group photos: the curator's described head count (not a repo label; "many" left out)
GROUPS = {"bruce-dixon": 5, "chris-murray": 4, "ethan-johnson": 4, "jessica-wilson": 4, "roland-samuel": 3}


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def faces(media: Path, analyzers: dict[str, FrameAnalyzer]) -> dict[str, Any]:
    """Face counts on every image with an n_faces label, plus the group photos."""
    labelled: list[tuple[Path, int]] = []
    for folder in ("face_recognition", "deepface", "facenet_pytorch"):
        for r in rows(media / folder / "LABELS.csv"):
            if r["n_faces"] and not r["file"].endswith(".mp4"):
                labelled.append((media / folder / r["file"], int(r["n_faces"])))
    for p in sorted((media / "proctoring_ai/face_detection/unsplash").glob("*.jpg")):
        key = next((k for k in GROUPS if p.name.startswith(k)), None)
        if key:
            labelled.append((p, GROUPS[key]))
    out: dict[str, Any] = {}
    for name, analyzer in analyzers.items():
        exact = found_one = multi_ok = multi_n = fp = neg = 0
        misses: list[str] = []
        for path, n in labelled:
            got = analyzer.count_faces(decode_image(path.read_bytes()))
            if n == 0:
                neg += 1
                fp += len(got)
                continue
            exact += len(got) == n
            found_one += len(got) >= 1
            if n >= 2:
                multi_n += 1
                multi_ok += len(got) >= 2
            if len(got) != n:
                misses.append(f"{path.name}: {len(got)}/{n}")
        positives = len(labelled) - neg
        out[name] = {
            "images": len(labelled),
            "detected_at_least_one": f"{found_one}/{positives}",
            "exact_count": f"{exact}/{positives}",
            "multi_face_seen_as_multiple": f"{multi_ok}/{multi_n}",
            "false_faces_on_no_face_images": f"{fp} on {neg}",
            "count_differs": misses,
        }
    return out


def head_pose(media: Path, analyzer: FrameAnalyzer) -> dict[str, Any]:
    errors: list[tuple[float, float, float]] = []
    skipped = no_face = 0
    for r in rows(media / "aflw2000_subset/LABELS.csv"):
        truth = (float(r["head_yaw_deg"]), float(r["head_pitch_deg"]), float(r["head_roll_deg"]))
        if max(abs(a) for a in truth) > 90:  # the usual AFLW2000 protocol drops these
            skipped += 1
            continue
        facts = analyzer.analyze((media / "aflw2000_subset" / r["file"]).read_bytes())
        if facts.pose is None:
            no_face += 1
            continue
        p = facts.pose
        errors.append((abs(p.yaw - truth[0]), abs(p.pitch - truth[1]), abs(p.roll - truth[2])))
    e = np.array(errors)
    return {
        "images": len(errors) + no_face,
        "dropped_angle_over_90": skipped,
        "no_pose (FaceMesh found no face)": no_face,
        "MAE_deg yaw/pitch/roll": [round(float(x), 1) for x in e.mean(axis=0)],
        "median_deg yaw/pitch/roll": [round(float(x), 1) for x in np.median(e, axis=0)],
    }


def gaze(media: Path, analyzer: FrameAnalyzer, baseline_frames: int = 5) -> dict[str, Any]:
    """Frame-level: is the iris away from the clip's own baseline? 0.5 s around each change ignored."""
    out: dict[str, Any] = {}
    for clip, away in (("center_focus", None), ("center_left_center", "L"), ("center_right_center", "R")):
        cap = cv2.VideoCapture(str(media / f"proctoring_ai/eye_tracking/{clip}.mp4"))
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # the phone clips are stored rotated
        fps = cap.get(cv2.CAP_PROP_FPS)
        values: list[tuple[float, float]] = []
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % 3 == 0:
                facts = analyzer.analyze_rgb(prepare(frame))
                if facts.gaze is not None:
                    values.append((i / fps, facts.gaze.horizontal))
            i += 1
        cap.release()
        base = statistics.median(v for _, v in values[:baseline_frames])
        right = total = 0
        for t, v in values:
            if any(abs(t - edge) < 0.5 for edge in (5.0, 10.0)):
                continue
            truth = away is not None and 5.0 <= t < 10.0
            right += (abs(v - base) > GAZE_HORIZONTAL) == truth
            total += 1
        out[clip] = f"{right}/{total} frames right ({100 * right / total:.1f}%)"
    return out


def verification(media: Path, analyzer: FrameAnalyzer) -> dict[str, Any]:
    root = media / "deepface"
    cache: dict[str, Any] = {}

    def embed(name: str) -> Any:
        if name not in cache:
            cache[name] = FaceVerifier._embed(verifier, decode_image((root / name).read_bytes()))
        return cache[name]

    pairs = rows(root / "PAIRS.csv")
    verifier = FaceVerifier((root / pairs[0]["file_a"]).read_bytes(), analyzer)
    same: list[float] = []
    different: list[float] = []
    no_face = 0
    started = time.perf_counter()
    for p in pairs:
        a, b = embed(p["file_a"]), embed(p["file_b"])
        if a is None or b is None:
            no_face += 1
            continue
        (same if p["same_person"] == "yes" else different).append(float(np.linalg.norm(a - b)))
    per_face = (time.perf_counter() - started) / max(1, len(cache)) * 1000
    s, d = np.array(same), np.array(different)
    frr = float((s >= MISMATCH_ABOVE).mean())  # same person called "different"
    far = float((d < MISMATCH_ABOVE).mean())  # different people not called "different"
    return {
        "pairs": f"{len(s)} same, {len(d)} different, {no_face} without a face",
        f"accuracy at {MISMATCH_ABOVE}": round(1 - (frr * len(s) + far * len(d)) / (len(s) + len(d)), 3),
        "FRR (same called different)": round(frr, 3),
        "FAR (different not flagged)": round(far, 3),
        f"unsure band {SAME_BELOW}-{MISMATCH_ABOVE}": int(((s >= SAME_BELOW) & (s < MISMATCH_ABOVE)).sum()
                                                         + ((d >= SAME_BELOW) & (d < MISMATCH_ABOVE)).sum()),
        "distance same median/max": [round(float(np.median(s)), 2), round(float(s.max()), 2)],
        "distance different min/median": [round(float(d.min()), 2), round(float(np.median(d)), 2)],
        "ms per image (decode + detect + embed)": round(per_face, 1),
    }


def _truth_mask(segments: list[tuple[float, float]], n: int, step: float, bridge: float) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    merged: list[list[float]] = []
    for start, end in sorted(segments):
        if merged and start - merged[-1][1] < bridge:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        mask[int(start / step) : int(np.ceil(end / step))] = True
    return mask


def voice(media: Path, detector: VoiceDetector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    step = 0.01
    root = media / "vad_programy"
    words: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in rows(root / "SEGMENTS.csv"):
        words[r["file"]].append((float(r["start_s"]), float(r["end_s"])))
    seconds = 0.0
    started = time.perf_counter()
    for name, segs in sorted(words.items()):
        samples = decode_wav((root / name).read_bytes())
        seconds += len(samples) / 16000
        n = int(len(samples) / 16000 / step)
        found = _truth_mask([(s.start, s.end) for s in detector.segments(samples)], n, step, 0.0)
        for bridge in (0.0, 0.3):
            truth = _truth_mask(segs, n, step, bridge)
            tp = float((found & truth).sum())
            out[f"{name} (pauses < {bridge} s count as speech)"] = {
                "precision": round(tp / max(1.0, float(found.sum())), 3),
                "recall": round(tp / max(1.0, float(truth.sum())), 3),
            }
    noise: dict[str, float] = {}
    for path in sorted((root / "noise").glob("*.wav")):
        samples = decode_wav(path.read_bytes())
        seconds += len(samples) / 16000
        noise[path.name] = round(sum(s.end - s.start for s in detector.segments(samples)), 2)
    out["noise files: seconds called speech"] = noise
    ina = media / "ina_speech_segmenter/media"
    for name in ("musanmix.wav", "lamartine.wav", "silence2sec.wav"):
        samples = decode_wav((ina / name).read_bytes())
        seconds += len(samples) / 16000
        segs = [(round(s.start, 1), round(s.end, 1)) for s in detector.segments(samples)]
        out[f"ina {name} segments"] = segs
    out["real-time factor (one thread)"] = round(seconds / (time.perf_counter() - started))
    return out


def fairness(media: Path, analyzers: dict[str, FrameAnalyzer]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    items = rows(media / "utkface/LABELS.csv")
    for name, analyzer in analyzers.items():
        hit: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in items:
            crop = cv2.imread(str(media / "utkface" / r["file"]))
            canvas = np.full((480, 640, 3), 128, dtype=np.uint8)
            h, w = crop.shape[:2]
            canvas[(480 - h) // 2 : (480 - h) // 2 + h, (640 - w) // 2 : (640 - w) // 2 + w] = crop
            hit[r["group"]][0] += bool(analyzer.count_faces(prepare(canvas)))
            hit[r["group"]][1] += 1
        rates = {g: 100.0 * a / n for g, (a, n) in sorted(hit.items())}
        out[name] = {**{g: f"{v:.0f}%" for g, v in rates.items()},
                     "gap (points)": round(max(rates.values()) - min(rates.values()), 1)}
    return out


def speed(analyzer: FrameAnalyzer, repeats: int = 200) -> dict[str, Any]:
    sample = ROOT / "src/invigil/agent/samples/webcam_center_focus_04s.jpg"
    data = sample.read_bytes()
    rgb = decode_image(data)
    canvas = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), (640, 480))  # a 640x480 webcam frame
    big = prepare(canvas)
    timings: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        for label, fn in (
            ("count only (BlazeFace), 270×480", lambda: analyzer.count_faces(rgb)),
            ("face+pose+gaze, 270×480", lambda: analyzer.analyze_rgb(rgb)),
            ("face+pose+gaze, 640×480", lambda: analyzer.analyze_rgb(big)),
            ("decode JPEG + face+pose+gaze, 270×480", lambda: analyzer.analyze(data)),
        ):
            t = time.perf_counter()
            fn()
            timings[label].append((time.perf_counter() - t) * 1000)
    return {
        k: {"median_ms": round(statistics.median(v), 2),
            "frames_per_s_per_core": round(1000 / statistics.median(v))}
        for k, v in timings.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not (args.media / "README.md").is_file():
        print(f"no labelled media at {args.media}: nothing to measure (see ADR 0008)", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core for everything
    short = FrameAnalyzer()
    analyzers = {
        "short-range (model 0), 0.5": short,
        "full-range (model 1), 0.5": FrameAnalyzer(full_range=True),
    }
    results: dict[str, Any] = {}
    for title, fn in (
        ("speed", lambda: speed(short)),
        ("faces", lambda: faces(args.media, analyzers)),
        ("fairness (UTKFace, padded to 640×480 grey)", lambda: fairness(args.media, analyzers)),
        ("head pose (AFLW2000 subset)", lambda: head_pose(args.media, short)),
        ("gaze (proctoring_ai clips)", lambda: gaze(args.media, short)),
        ("voice", lambda: voice(args.media, VoiceDetector())),
        ("verification (deepface PAIRS.csv)", lambda: verification(args.media, short)),
    ):
        started = time.perf_counter()
        results[title] = fn()
        took = time.perf_counter() - started
        print(f"## {title}  ({took:.0f} s)\n```\n{json.dumps(results[title], indent=2)}\n```", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
