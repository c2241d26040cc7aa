"""`invigil analyze FILE... [--json]`: run the detectors on images, videos or WAV files and print what
they see, so that anyone can check a result by hand. Offline: the models ship with the packages."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    s = sub.add_parser("analyze", help="run the detectors on image, video or WAV files (spot checks)")
    s.add_argument("files", nargs="+", type=Path, help="JPEG/PNG images, MP4/AVI/... videos, WAV audio")
    s.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    s.add_argument("--every", type=float, default=0.5, help="seconds between analysed video frames")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from invigil.analysis.spotcheck import analyse_file

    failed = 0
    for path in args.files:
        result = analyse_file(path, every=args.every)
        failed += "error" in result
        print(json.dumps(result) if args.json else summary(result), flush=True)
    return 1 if failed else 0


def summary(r: dict[str, Any]) -> str:
    """One readable line per file."""
    if "error" in r:
        return f"{r['file']}: cannot analyse: {r['error']}"
    if r["kind"] == "audio":
        spoken = sum(s["end"] - s["start"] for s in r["speech"])
        return f"{r['file']}: {r['seconds']} s of audio, {len(r['speech'])} speech segments ({spoken:.1f} s)"
    if r["kind"] == "video":
        episodes = ", ".join(f"{e['behaviour']} {e['start']}-{e['end']} s" for e in r["episodes"]) or "none"
        return f"{r['file']}: {r['seconds']} s, {len(r['frames'])} frames analysed; episodes: {episodes}"
    pose = r["pose"] and f"yaw {r['pose']['yaw']}°, pitch {r['pose']['pitch']}°"
    return f"{r['file']}: {len(r['faces'])} face(s); {pose or 'no pose'}; gaze {r['gaze'] or '—'}"
