"""Detector fixtures: models load once per test session; real media from ../shared/media when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from invigil.analysis.audio import VoiceDetector
from invigil.analysis.vision import FrameAnalyzer

REPO = Path(__file__).resolve().parents[4]
SAMPLES = REPO / "src" / "invigil" / "agent" / "samples"
MEDIA = REPO.parent / "shared" / "media"


@pytest.fixture(scope="session")
def analyzer() -> FrameAnalyzer:
    return FrameAnalyzer()


@pytest.fixture(scope="session")
def voice() -> VoiceDetector:
    return VoiceDetector()


@pytest.fixture(scope="session")
def media() -> Path:
    if not (MEDIA / "README.md").is_file():
        pytest.skip(f"labelled test media not found at {MEDIA} (see its README); real-media tests skipped")
    return MEDIA


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
