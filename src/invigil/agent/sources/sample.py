"""Sample sources for the simulated class and tests: generated screens, shipped webcam frames,
plausible process lists. The real capture sources are in ``agent/sources/real`` (ADR 0019)."""

from __future__ import annotations

import io
import json
import random
import wave
from importlib import resources
from pathlib import Path
from typing import Any

from invigil.kit.clock import iso, utcnow

SAMPLES = resources.files("invigil.agent") / "samples"

BASE_PROCESSES = [
    "systemd",
    "Xorg",
    "gnome-shell",
    "invigil-agent",
    "libreoffice-writer",
    "firefox",
    "pipewire",
    "NetworkManager",
    "dbus-daemon",
    "gnome-terminal-server",
    "evince",
]


def group_photo() -> bytes:
    """Several people in one picture (Unsplash License): a webcam with a second person in view."""
    return (SAMPLES / "group_roland-samuel-unsplash.jpg").read_bytes()


def webcam_frames(which: str = "focus") -> list[bytes]:
    """The shipped frames of one person at a desk: ``focus`` (eyes on the screen), ``away`` (eyes
    to the left, then the right), or ``all``."""
    prefix = {"focus": "webcam_center_focus", "away": "webcam_center_", "all": "webcam_"}[which]
    return [
        p.read_bytes()
        for p in sorted(SAMPLES.iterdir(), key=lambda p: p.name)
        if p.name.startswith(prefix)
        and p.name.endswith(".jpg")
        and (which != "away" or "focus" not in p.name)
    ]


def reading_aloud() -> bytes:
    """Seven seconds of a woman reading Lamartine (LibriVox, public domain; see SOURCES.md)."""
    return (SAMPLES / "speech_librivox_lamartine.wav").read_bytes()


class SampleScreen:
    """A rendered desktop with an editor window; text changes over time. PNG bytes."""

    kind = "screenshot"

    def __init__(self, label: str = "", marker: str = "", size: tuple[int, int] = (1024, 640)) -> None:
        self.label, self.marker, self.size = label, marker, size
        self.words = 0
        self._rng = random.Random(label)

    def capture(self) -> bytes:
        from PIL import Image, ImageDraw

        w, h = self.size
        img = Image.new("RGB", self.size, (40, 62, 92))
        d = ImageDraw.Draw(img)
        d.rectangle([40, 30, w - 40, h - 40], fill=(250, 250, 248), outline=(30, 30, 30))
        d.rectangle([40, 30, w - 40, 58], fill=(220, 224, 230))
        d.text((52, 38), "answer.odt - LibreOffice Writer", fill=(20, 20, 20))
        d.text((w - 170, 38), utcnow().strftime("%H:%M:%S UTC"), fill=(20, 20, 20))
        self.words += self._rng.randint(10, 40)
        lines = [f"Question {1 + self.words // 150}: discuss the trade-offs of the design.", ""]
        vocab = [
            "the",
            "data",
            "model",
            "exam",
            "answer",
            "because",
            "therefore",
            "proof",
            "argument",
            "result",
            "method",
        ]
        for _ in range(min(22, 2 + self.words // 25)):
            lines.append(" ".join(self._rng.choice(vocab) for _ in range(12)))
        if self.marker:
            lines.append(self.marker)
        for i, line in enumerate(lines):
            d.text((64, 76 + i * 20), line, fill=(30, 30, 30))
        # A little noise so that PNGs have realistic sizes.
        for _ in range(400):
            x, y = self._rng.randrange(w), self._rng.randrange(h)
            d.point((x, y), fill=(self._rng.randrange(256),) * 3)
        out = io.BytesIO()
        img.save(out, format="PNG", compress_level=1)
        return out.getvalue()


class SampleWebcam:
    """The shipped frames in a loop; ``kind="reference_photo"`` for the photo taken at the start."""

    def __init__(self, frames: list[bytes] | None = None, start: int = 0, kind: str = "webcam_frame") -> None:
        self.frames = frames or webcam_frames()
        self.index, self.kind = start, kind

    def capture(self) -> bytes:
        frame = self.frames[self.index % len(self.frames)]
        self.index += 1
        return frame


class SampleMicrophone:
    """Clips from a quiet room: a fan's rumble and mains hum, generated (no voice in it). A talking
    candidate's clips carry a reading over that noise, two clips out of every four after the first."""

    kind = "audio_clip"

    def __init__(self, seconds: int, talks: bool = False, seed: str = "") -> None:
        self.seconds, self.talks = seconds, talks
        self._seed = sum(seed.encode())
        self.index = 0

    def capture(self) -> bytes:
        import numpy as np

        n = self.seconds * 16_000
        rng = np.random.default_rng(self._seed + self.index)
        white = rng.standard_normal(n)
        rumble = np.cumsum(white)
        rumble -= np.convolve(rumble, np.ones(1600) / 1600, mode="same")  # no drift: a fan, not a wave
        rumble /= np.abs(rumble).max() or 1.0
        t = np.arange(n) / 16_000
        hum = 0.3 * np.sin(2 * np.pi * 50 * t) + 0.15 * np.sin(2 * np.pi * 100 * t)
        clip = 0.02 * rumble + 0.004 * hum + 0.002 * white
        if self.talks and self.index % 4 in (1, 2):
            voice = _pcm(reading_aloud())
            start = (self.index * n) % len(voice)  # carry on reading where the last clip stopped
            clip += np.resize(np.roll(voice, -start), n)
        self.index += 1
        return _wav(clip)


def _pcm(wav: bytes) -> Any:
    import numpy as np

    with wave.open(io.BytesIO(wav)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32767


def _wav(samples: Any) -> bytes:
    import numpy as np

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


class SampleProcesses:
    kind = "process_snapshot"

    def __init__(self, extra: list[str] | None = None, seed: str = "") -> None:
        self.extra = list(extra or [])
        self._rng = random.Random(seed)

    def capture(self) -> bytes:
        names = BASE_PROCESSES + self.extra
        procs = [
            {"pid": 1000 + i * 7 + self._rng.randrange(5), "name": n, "cpu": round(self._rng.random() * 5, 1)}
            for i, n in enumerate(names)
        ]
        return json.dumps({"taken_at": iso(utcnow()), "processes": procs}).encode()


class SampleAnswerDocument:
    """Successive saved versions of the candidate's answer file (hand-in folder backup)."""

    kind = "handin_backup"

    def __init__(self, seed: str = "") -> None:
        self._rng = random.Random(seed)
        self.paragraphs: list[str] = []

    def capture(self) -> bytes:
        vocab = ["the", "algorithm", "runs", "in", "linear", "time", "because", "each", "step", "halves"]
        self.paragraphs.append(" ".join(self._rng.choice(vocab) for _ in range(60)))
        body = "\n\n".join(f"Answer {i + 1}. {text}" for i, text in enumerate(self.paragraphs))
        return json.dumps({"file": "answer.odt", "saved_at": iso(utcnow()), "text": body}).encode()


class SampleFile:
    """A hand-in file read from disk, or generated text when none is given."""

    kind = "handin_file"

    def __init__(self, path: Path | None = None, text: str = "") -> None:
        self.path, self.text = path, text

    def capture(self) -> bytes:
        if self.path is not None:
            return self.path.read_bytes()
        return (self.text or "My answers.\n").encode()
