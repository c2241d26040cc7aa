"""Every detector loads and runs with the network cut off: no weights are downloaded at run time."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import numpy as np
import pytest

from invigil.analysis import biometric
from invigil.analysis.audio import VoiceDetector
from invigil.analysis.biometric import FaceVerifier
from invigil.analysis.vision import FrameAnalyzer
from tests.unit.analysis.detectors.conftest import sample
from tests.unit.analysis.detectors.test_audio import wav16


def test_models_load_and_run_without_a_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise OSError("network access attempted by a detector")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    biometric._dlib_models.cache_clear()  # load dlib's files afresh, here
    analyzer = FrameAnalyzer()
    try:
        assert analyzer.analyze(sample("webcam_center_focus_01s.jpg")).n_faces == 1
        verifier = FaceVerifier(sample("webcam_center_focus_01s.jpg"), analyzer)
        assert verifier.verify(sample("webcam_center_focus_08s.jpg")).band == "same"
    finally:
        analyzer.close()
    voice = VoiceDetector()
    assert voice.segments(np.zeros(16_000, dtype=np.float32)) == []
    assert voice.detect(wav16(np.zeros(16_000)), "x", datetime(2026, 1, 1, tzinfo=UTC)) == []
