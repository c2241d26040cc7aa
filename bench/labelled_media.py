"""What bench/accuracy.py and bench/analysis_speed.py share: finding the labelled media, reading its
CSV files, pinning to one core, and the lighting conditions of the fairness measure."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MEDIA = ROOT.parent / "shared" / "media"
SEED = 20261122  # every random number in the benchmarks comes from this seed

CANVAS = (480, 640)  # a 640x480 webcam frame
GREY = 128


def arguments(description: str) -> argparse.Namespace:
    """MEDIA (positional) and --json OUT; exits 2 with a message when MEDIA has no labelled media."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "media",
        type=Path,
        nargs="?",
        default=DEFAULT_MEDIA,
        metavar="MEDIA",
        help=f"the labelled media folder (its README.md and LABELS.csv files); default {DEFAULT_MEDIA}",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results here as JSON")
    args = parser.parse_args()
    if not (args.media / "README.md").is_file():
        print(
            f"no labelled media at {args.media} (expected its README.md): nothing to measure. "
            "Pass the media folder as the first argument (see ADR 0008).",
            file=sys.stderr,
        )
        sys.exit(2)
    return args


def pin_one_core() -> int | None:
    """Pin this process to one CPU core, so every speed is per core; returns the core."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    core = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {core})
    return core


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run(sections: list[tuple[str, Callable[[], Any]]], out: Path | None) -> dict[str, Any]:
    """Run each measure, print it as Markdown-ready JSON, and write everything to ``out``."""
    import time

    results: dict[str, Any] = {}
    for title, fn in sections:
        started = time.perf_counter()
        results[title] = fn()
        took = time.perf_counter() - started
        text = json.dumps(results[title], indent=2, ensure_ascii=False)
        print(f"## {title}  ({took:.0f} s)\n```\n{text}\n```", flush=True)
    if out:
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


# --- lighting (fairness under webcam conditions) ---------------------------------------------------
# normal: the crop as it is. dim and dark: the whole frame's brightness scaled down, then Gaussian
# sensor noise (a cheap webcam at high gain). backlit: a bright background (a window behind the
# candidate) with the face region darkened (the camera exposes for the window).
LIGHTING: dict[str, dict[str, float]] = {
    "normal": {"scale": 1.0, "noise": 0.0},
    "dim": {"scale": 0.35, "noise": 6.0},
    "dark": {"scale": 0.12, "noise": 8.0},
    "backlit": {"background": 240.0, "face_scale": 0.4, "noise": 6.0},
}


def on_canvas(
    crop: NDArray[np.uint8], background: int = GREY
) -> tuple[NDArray[np.uint8], tuple[slice, slice]]:
    """The crop centred on a 640x480 canvas of one grey; also returns where the crop sits."""
    canvas = np.full((*CANVAS, 3), background, dtype=np.uint8)
    h, w = crop.shape[:2]
    top, left = (CANVAS[0] - h) // 2, (CANVAS[1] - w) // 2
    where = (slice(top, top + h), slice(left, left + w))
    canvas[where] = crop
    return canvas, where


def lit(crop: NDArray[np.uint8], condition: str, rng: np.random.Generator) -> NDArray[np.uint8]:
    """The crop on a 640x480 canvas under one of LIGHTING's conditions (BGR or RGB, as given)."""
    spec = LIGHTING[condition]
    if condition == "backlit":
        canvas, where = on_canvas(crop, background=int(spec["background"]))
        frame = canvas.astype(np.float32)
        frame[where] *= spec["face_scale"]
    else:
        frame = on_canvas(crop)[0].astype(np.float32) * spec["scale"]
    if spec["noise"]:
        frame += rng.normal(0.0, spec["noise"], frame.shape).astype(np.float32)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)
