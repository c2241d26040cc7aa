"""WAV decoding and the voice detector on generated audio: noise, hum and clicks are not speech."""

from __future__ import annotations

import io
import wave
from datetime import UTC, datetime

import numpy as np
import pytest

from invigil.analysis.audio import RATE, UnsupportedAudio, VoiceDetector, decode_wav

SECONDS = 6
rng = np.random.default_rng(11)


def wav16(samples: np.ndarray, rate: int = RATE, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def wav_float(samples: np.ndarray) -> bytes:
    data = samples.astype("<f4").tobytes()
    fmt = (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + RATE.to_bytes(4, "little")
    fmt += (RATE * 4).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
    body = b"WAVE" + b"fmt " + len(fmt).to_bytes(4, "little") + fmt
    body += b"data" + len(data).to_bytes(4, "little") + data
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def coloured(exponent: float, n: int = RATE * SECONDS) -> np.ndarray:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown), peak 0.5."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.maximum(np.arange(len(spectrum)), 1) ** (exponent / 2)
    x = np.fft.irfft(spectrum, n)
    return 0.5 * x / np.abs(x).max()


def fan() -> np.ndarray:
    t = np.arange(RATE * SECONDS) / RATE
    hum = 0.2 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 150 * t)
    return hum + 0.3 * coloured(1.0) * (1 + 0.2 * np.sin(2 * np.pi * 8 * t))  # blade flutter


def typing() -> np.ndarray:
    x = 0.01 * coloured(0.0)
    for start in rng.integers(0, RATE * SECONDS - 400, 40):  # ~7 keystrokes a second
        click = rng.standard_normal(300) * np.exp(-np.arange(300) / 40)
        x[start : start + 300] += 0.6 * click
    return x


@pytest.mark.parametrize(
    "make", [lambda: coloured(0.0), lambda: coloured(1.0), lambda: coloured(2.0), fan, typing,
             lambda: np.zeros(RATE * SECONDS)],
    ids=["white", "pink", "brown", "fan", "typing", "silence"],
)
def test_noise_is_not_speech(voice: VoiceDetector, make) -> None:
    samples = decode_wav(wav16(make()))
    assert voice.segments(samples) == []
    assert float(voice.probabilities(samples).max()) < 0.5


def test_detect_returns_no_detection_for_noise(voice: VoiceDetector) -> None:
    assert voice.detect(wav16(coloured(1.0)), "a1", datetime(2026, 11, 22, tzinfo=UTC)) == []


def test_decode_reads_pcm16_float_and_stereo() -> None:
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    assert decode_wav(wav16(tone)) == pytest.approx(tone, abs=1e-4)
    assert decode_wav(wav_float(tone)) == pytest.approx(tone, abs=1e-6)
    stereo = np.stack([tone, -tone * 0], axis=1).reshape(-1)
    assert decode_wav(wav16(stereo, channels=2)) == pytest.approx(tone / 2, abs=1e-4)


def test_decode_resamples_48k_and_refuses_8k() -> None:
    t = np.arange(48_000) / 48_000
    out = decode_wav(wav16(0.5 * np.sin(2 * np.pi * 300 * t), rate=48_000))
    assert len(out) == RATE
    expected = 0.5 * np.sin(2 * np.pi * 300 * np.arange(RATE) / RATE)
    assert np.abs(out[100:-100] - expected[100:-100]).max() < 0.02
    with pytest.raises(UnsupportedAudio, match="8000 Hz"):
        decode_wav(wav16(np.zeros(8000), rate=8000))


def test_decode_refuses_what_is_not_a_wav() -> None:
    with pytest.raises(UnsupportedAudio):
        decode_wav(b"ID3 not a wav at all")


class Scripted(VoiceDetector):
    """The real segmentation on a probability track given by the test (the model is not asked)."""

    def __init__(self, track: list[float]) -> None:
        super().__init__()
        self.track = np.array(track, dtype=np.float32)

    def probabilities(self, samples):  # type: ignore[no-untyped-def, override]
        return self.track


def test_a_segment_the_model_is_unsure_about_is_not_speech() -> None:
    """Issue 4: noise scored just over Silero's 0.5 for a second is not talking; speech scores ~0.97."""
    second = 31  # chunks of 32 ms
    unsure = [0.0] * 10 + [0.55] * second + [0.0] * 10
    sure = [0.0] * 10 + [0.95] * second + [0.0] * 10
    assert Scripted(unsure).segments(np.zeros(1, np.float32)) == []
    [segment] = Scripted(unsure + sure).segments(np.zeros(1, np.float32))
    assert segment.probability == pytest.approx(0.95)
    assert segment.start == pytest.approx((len(unsure) + 10) * 0.032)
