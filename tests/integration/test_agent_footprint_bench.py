"""bench/agent_footprint.py keeps working: a few seconds of the real agent under Xvfb against a real
server, measured and written as JSON (docs/benchmarks.md, "Agent footprint")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.xdisplay import need

BENCH = Path(__file__).resolve().parents[2] / "bench" / "agent_footprint.py"


def test_without_media_it_says_so_and_exits_2(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH), str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "no media at" in done.stderr


@pytest.mark.slow
def test_a_short_run_measures_the_agent(media, tmp_path):
    need("Xvfb", "xdotool")  # skips without them, except in CI where they must be there
    for part in ("proctoring_ai/eye_tracking/center_focus.mp4", "vad_programy/speech/english1.wav"):
        if not (media / part).is_file():
            pytest.skip(f"{part} is missing from ../shared/media")
    out = tmp_path / "footprint.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), str(media), "--minutes", "0.2", "--quiet", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "CPU, whole run" in done.stdout
    result = json.loads(out.read_text())
    assert result["agent"]["phase"] == "closed"
    assert result["agent"]["items"]["webcam_frame"] >= 1
    assert result["agent"]["items"]["screenshot"] >= 1
    assert "detection.voice.speech" in result["agent"]["events"]  # the live VAD ran
    assert result["cpu_seconds"] > 0
    assert result["rss_mb"]["peak"] > 50  # the models are loaded
