"""Speech in microphone audio: WAV -> speech segments -> ``voice.speech`` detections.

Silero VAD (its ONNX file, shipped inside the ``silero-vad`` package) run by onnxruntime on one CPU
thread, without torch. webrtcvad is only a cheap pre-filter: it fires on any broadband noise, so it
decides where Silero need not look (stretches where it hears nothing), never where speech is.
Silero does not fire on fans, hum, typing or white/pink/brown noise (measured in bench/accuracy.py).

Thread-safety: onnxruntime sessions may be shared by threads; the recurrent state lives in each
call, so one ``VoiceDetector`` per process is enough (``shared_voice()``).
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from invigil.analysis.base import Detection

RATE = 16_000
CHUNK = 512  # samples Silero judges at once at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous chunk Silero sees in front of each chunk
THRESHOLD = 0.5  # speech starts at this probability (Silero's default)
RELEASE = 0.35  # ... and ends when it stays below this
MIN_SPEECH_S = 0.25
MIN_SILENCE_S = 0.1  # a dip shorter than this does not split a segment
# A segment counts as speech only if Silero's mean probability over it reaches this. Held-out speech
# (the shipped LibriVox reading, agent/samples) gives segment means of 0.97-0.99; the false segments on
# MUSAN noise are 0.40-0.60. Chosen after seeing those (docs/benchmarks.md "Detectors" says so).
SEGMENT_FLOOR = 0.75
WEBRTC_FRAME = 480  # 30 ms at 16 kHz
PREFILTER_PAD = 16  # chunks (~0.5 s) around a webrtcvad hit that Silero looks at


class UnsupportedAudio(ValueError):
    """Audio that is not a WAV we can read at 16 kHz or more."""


@dataclass(frozen=True)
class SpeechSegment:
    start: float  # seconds from the start of the audio
    end: float
    probability: float  # Silero's mean speech probability over the segment


def decode_wav(data: bytes) -> NDArray[np.float32]:
    """A RIFF WAV (PCM 8/16/24/32-bit or float32, any channel count, >= 16 kHz) -> 16 kHz mono floats."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise UnsupportedAudio("not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    pos, raw = 12, b""
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = data[pos + 8 : pos + 8 + size]
        if tag == b"fmt ":
            code, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if code == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real code follows
                code = struct.unpack("<H", body[24:26])[0]
            fmt = (code, channels, rate, bits)
        elif tag == b"data":
            raw = body
        pos += 8 + size + (size & 1)
    if fmt is None:
        raise UnsupportedAudio("WAV without a fmt chunk")
    code, channels, rate, bits = fmt
    samples = _samples(raw, code, bits)
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return resample(samples.astype(np.float32), rate)


def _samples(raw: bytes, code: int, bits: int) -> NDArray[np.float64]:
    if code == 3 and bits == 32:
        return np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<f4").astype(np.float64)
    if code != 1:
        raise UnsupportedAudio(f"WAV format {code} is not PCM or float")
    if bits == 8:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if bits == 16:
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2") / 32768.0
    if bits == 24:
        b = np.frombuffer(raw[: len(raw) // 3 * 3], dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)
    if bits == 32:
        return np.frombuffer(raw[: len(raw) // 4 * 4], dtype="<i4") / 2147483648.0
    raise UnsupportedAudio(f"{bits}-bit PCM is not supported")


def resample(samples: NDArray[np.float32], rate: int) -> NDArray[np.float32]:
    """To 16 kHz: a box filter against aliasing, then linear interpolation. Refuses rates below 16 kHz
    (8 kHz telephone audio would need Silero's 8 kHz mode; agents record at 16 kHz or more)."""
    if rate == RATE:
        return samples
    if rate < RATE:
        raise UnsupportedAudio(f"{rate} Hz is below {RATE} Hz; record at 16 kHz or more")
    width = round(rate / RATE)
    if width > 1:
        samples = np.convolve(samples, np.full(width, 1.0 / width, dtype=np.float32), mode="same")
    n = int(len(samples) * RATE / rate)
    positions = np.arange(n, dtype=np.float64) * (rate / RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def _model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")  # finds the package without importing it (torch)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the silero-vad package is not installed (it ships the VAD's ONNX file)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise RuntimeError(f"Silero VAD's ONNX file is missing: {path}")
    return path


class VoiceDetector:
    """Speech segments in 16 kHz mono audio. Load once per process; safe to share between threads."""

    def __init__(self, *, threshold: float = THRESHOLD, prefilter: bool = True) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.threshold = threshold
        self.prefilter = prefilter

    def probabilities(self, samples: NDArray[np.float32]) -> NDArray[np.float32]:
        """Silero's speech probability for every 32 ms chunk (0 where the pre-filter heard nothing)."""
        n = len(samples) // CHUNK
        probs = np.zeros(n, dtype=np.float32)
        look = _candidates(samples, n) if self.prefilter else np.ones(n, dtype=bool)
        state = np.zeros((2, 1, 128), dtype=np.float32)
        context = np.zeros((1, CONTEXT), dtype=np.float32)
        rate = np.array(RATE, dtype=np.int64)
        for i in range(n):
            if not look[i]:
                state[:] = 0.0  # a fresh start after a stretch Silero skipped
                context[:] = 0.0
                continue
            chunk = samples[i * CHUNK : (i + 1) * CHUNK].reshape(1, CHUNK)
            x = np.concatenate([context, chunk], axis=1)
            out, state = self._session.run(None, {"input": x, "state": state, "sr": rate})
            probs[i] = float(out[0, 0])
            context = x[:, -CONTEXT:]
        return probs

    def segments(self, samples: NDArray[np.float32]) -> list[SpeechSegment]:
        """Speech segments: start at THRESHOLD, end after MIN_SILENCE_S below RELEASE; drop the short and
        the unsure (mean probability below SEGMENT_FLOOR)."""
        probs = self.probabilities(samples)
        step = CHUNK / RATE
        release = self.threshold - (THRESHOLD - RELEASE)
        found: list[SpeechSegment] = []
        start: int | None = None
        quiet = 0
        for i, p in enumerate(probs):
            if start is None:
                if p >= self.threshold:
                    start, quiet = i, 0
                continue
            quiet = quiet + 1 if p < release else 0
            if quiet * step >= MIN_SILENCE_S:
                found.append(_segment(probs, start, i + 1 - quiet, step))
                start = None
        if start is not None:
            found.append(_segment(probs, start, len(probs) - quiet, step))
        return [s for s in found if s.end - s.start >= MIN_SPEECH_S and s.probability >= SEGMENT_FLOOR]

    def detect(self, wav: bytes, client_id: str, started_at: datetime) -> list[Detection]:
        """``voice.speech`` detections for one WAV evidence item recorded from ``started_at``."""
        return [
            Detection(
                behaviour="voice.speech",
                score=round(min(1.0, max(0.0, s.probability)), 3),
                start=started_at + timedelta(seconds=s.start),
                end=started_at + timedelta(seconds=s.end),
                evidence=(client_id,),
                data={"seconds": round(s.end - s.start, 2)},
            )
            for s in self.segments(decode_wav(wav))
        ]


def _segment(probs: NDArray[np.float32], first: int, stop: int, step: float) -> SpeechSegment:
    stop = max(stop, first + 1)
    return SpeechSegment(first * step, stop * step, float(probs[first:stop].mean()))


def _candidates(samples: NDArray[np.float32], n: int) -> NDArray[np.bool_]:
    """Chunks near anything webrtcvad (mode 0, the most permissive) calls voiced."""
    import webrtcvad

    vad = webrtcvad.Vad(0)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    hits = np.zeros(n, dtype=bool)
    for i in range(n):
        offset = i * CHUNK * 2
        frame = pcm[offset : offset + WEBRTC_FRAME * 2]
        if len(frame) == WEBRTC_FRAME * 2 and vad.is_speech(frame, RATE):
            hits[i] = True
    if not hits.any():
        return hits
    window = np.ones(2 * PREFILTER_PAD + 1, dtype=int)
    return np.convolve(hits.astype(int), window, mode="same") > 0


@cache
def shared_voice() -> VoiceDetector:
    """The process's VoiceDetector, loaded on first use."""
    return VoiceDetector()
