"""The frame analyser on a desktop (a real X display): mediapipe's CPU graphs must not load a GL
driver they never use (≈ 60 MB resident with Mesa, bench/agent_footprint.py), and the facts of a
frame must be exactly those found without a display."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.integration.xdisplay import xvfb

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "invigil" / "agent" / "samples"
ANALYSE = textwrap.dedent(
    """
    import json, sys
    from invigil.analysis.vision import FrameAnalyzer
    facts = []
    analyzer = FrameAnalyzer()
    for path in sys.argv[1:]:
        f = analyzer.analyze(open(path, "rb").read())
        facts.append({
            "faces": [[b.x, b.y, b.width, b.height, b.score] for b in f.faces],
            "pose": None if f.pose is None else [f.pose.yaw, f.pose.pitch, f.pose.roll],
            "gaze": None if f.gaze is None else repr(f.gaze),
        })
    maps = open("/proc/self/maps").read()
    gl = sorted({line.rsplit("/", 1)[-1] for line in maps.splitlines()
                 if any(k in line for k in ("libEGL_mesa", "libLLVM", "_dri.so", "libGLX_mesa"))})
    print(json.dumps({"facts": facts, "gl": gl}))
    """
)


def analyse(display: str | None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "__EGL_VENDOR_LIBRARY_FILENAMES")}
    if display:
        env["DISPLAY"] = display
    frames = [str(p) for p in sorted(SAMPLES.glob("webcam_*.jpg"))[:4]]
    done = subprocess.run(
        [sys.executable, "-c", ANALYSE, *frames], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_no_gl_driver_on_a_desktop_and_the_same_facts_as_without_one():
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/maps")
    with xvfb() as display:
        on_desktop = analyse(display)
    headless = analyse(None)
    assert on_desktop["gl"] == []
    assert on_desktop["facts"] == headless["facts"]
    facts = on_desktop["facts"]
    assert isinstance(facts, list)
    assert len(facts) == 4
    assert all(len(f["faces"]) == 1 and f["pose"] is not None for f in facts)  # the analysis still ran
