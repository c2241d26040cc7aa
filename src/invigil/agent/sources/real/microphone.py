"""Microphone clips as 16 kHz mono 16-bit WAV. Speech detection is the runtime's live pass (the
analysis VAD, ``analysis/audio.py``): in detection mode only its events leave the computer, in
recording mode the clip is sealed too (``Policy.collects``).

Input: a WAV file (tests, demos), or the default input device through ``sounddevice`` (the agent
extra). Its Windows and macOS wheels carry PortAudio; on Linux it needs the system's libportaudio2.
Tested here through ALSA on a null input device (no sound card in CI): real PortAudio recording,
not the sound of a real microphone.
"""

from __future__ import annotations

import io
import logging
import wave
from pathlib import Path
from typing import Any

log = logging.getLogger("invigil.agent")
RATE = 16_000


class NoMicrophone(RuntimeError):
    """Neither a WAV file nor a recording backend."""


def wav_bytes(samples: Any) -> bytes:
    import numpy as np

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return out.getvalue()


class WavMicrophone:
    """``audio_clip`` evidence read from a WAV file, clip after clip, looping at its end."""

    kind = "audio_clip"

    def __init__(self, path: Path, seconds: int) -> None:
        from invigil.analysis.audio import decode_wav

        self.path, self.seconds = path, seconds
        self._samples = decode_wav(path.read_bytes())  # 16 kHz mono floats, whatever the file's format
        if len(self._samples) == 0:
            raise NoMicrophone(f"{path} holds no sound")
        self._pos = 0

    def capture(self) -> bytes:
        import numpy as np

        n = self.seconds * RATE
        idx = (self._pos + np.arange(n)) % len(self._samples)
        self._pos = (self._pos + n) % len(self._samples)
        return wav_bytes(self._samples[idx])


class DeviceMicrophone:
    """``audio_clip`` evidence recorded from the default input device."""

    kind = "audio_clip"
    every = 0.0  # recording takes the clip's own time: the next one starts right after it

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self._sd = recording_backend()
        if self._sd is None:
            raise NoMicrophone(NO_BACKEND)

    def capture(self) -> bytes:
        frames = self._sd.rec(self.seconds * RATE, samplerate=RATE, channels=1, dtype="float32")
        self._sd.wait()
        return wav_bytes(frames[:, 0])


NO_BACKEND = (
    "no microphone backend: install the 'sounddevice' package with its PortAudio library "
    "(on Linux: apt-get install libportaudio2), or give a WAV file to read"
)


def recording_backend() -> Any:
    """The ``sounddevice`` module when it and PortAudio are there, else None."""
    try:
        import sounddevice  # optional, see the module docstring
    except (ImportError, OSError):  # OSError: the package is there, its PortAudio library is not
        return None
    return sounddevice


def microphone(wav: Path | None, seconds: int) -> WavMicrophone | DeviceMicrophone:
    if wav is not None:
        return WavMicrophone(wav, seconds)
    return DeviceMicrophone(seconds)
