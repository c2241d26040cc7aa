"""The system check before anything is recorded: camera, microphone, screen capture, free disk space
and the clock. Each check answers pass, warn or fail, what it found, and a fix in plain words, in
the candidate's language (texts.py).

The checks use the very sources the agent will record with (one test capture each), so a camera
that works here is the camera that works in the exam. Nothing captured here is kept or sent.
"""

from __future__ import annotations

import io
import shutil
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal

import httpx

from invigil.agent.sources import Source
from invigil.agent.texts import t

Status = Literal["pass", "warn", "fail"]

DISK_NEEDED = 2 * 1024**3  # bytes for the spool of a long exam with webcam and screen
DISK_MINIMUM = 500 * 1024**2
CLOCK_WARN_SECONDS = 30.0
CLOCK_FAIL_SECONDS = 120.0  # the server accepts items sealed to a retired key for 2 minutes only
QUIET_DBFS = -60.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    found: str
    fix: str = ""
    preview: bytes | None = None  # PNG, small: the camera's test frame, shown to the candidate


def capture_once(source: Callable[[], Source]) -> bytes:
    src = source()
    try:
        return src.capture()
    finally:
        close = getattr(src, "close", None)  # a real camera is released for the recording to use it
        if callable(close):
            close()


def camera(source: Callable[[], Source] | None, lang: str = "en") -> CheckResult:
    name = t(lang, "check_camera")
    if source is None:
        return CheckResult(name, "fail", t(lang, "camera_missing"), t(lang, "camera_missing_fix"))
    try:
        from PIL import Image, ImageStat

        frame = Image.open(io.BytesIO(capture_once(source))).convert("RGB")
    except Exception as exc:
        return CheckResult(
            name,
            "fail",
            t(lang, "camera_failed", why=type(exc).__name__),
            t(lang, "camera_failed_fix"),
        )
    brightness = ImageStat.Stat(frame.convert("L")).mean[0]
    thumb = frame.copy()
    thumb.thumbnail((320, 240))
    out = io.BytesIO()
    thumb.save(out, format="PNG")
    if brightness < 25:
        return CheckResult(
            name,
            "warn",
            t(lang, "camera_dark"),
            t(lang, "camera_dark_fix"),
            out.getvalue(),
        )
    found = t(lang, "camera_ok", width=frame.width, height=frame.height)
    return CheckResult(name, "pass", found, "", out.getvalue())


def microphone(source: Callable[[], Source] | None, lang: str = "en") -> CheckResult:
    name = t(lang, "check_microphone")
    if source is None:
        return CheckResult(name, "fail", t(lang, "microphone_missing"), t(lang, "microphone_missing_fix"))
    try:
        import numpy as np

        with wave.open(io.BytesIO(capture_once(source))) as w:
            width = w.getsampwidth()
            pcm = w.readframes(w.getnframes())
        dtype: dict[int, str] = {1: "u1", 2: "<i2", 4: "<i4"}
        samples = np.frombuffer(pcm, dtype=dtype[width]).astype(np.float64)
        if width == 1:
            samples -= 128
        samples /= float(2 ** (8 * width - 1))
    except Exception as exc:
        return CheckResult(
            name,
            "fail",
            t(lang, "microphone_failed", why=type(exc).__name__),
            t(lang, "microphone_failed_fix"),
        )
    rms = float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0
    level = 20 * np.log10(rms) if rms > 0 else -120.0
    if level < QUIET_DBFS:
        return CheckResult(
            name,
            "warn",
            t(lang, "microphone_quiet", level=f"{level:.0f}"),
            t(lang, "microphone_quiet_fix"),
        )
    return CheckResult(name, "pass", t(lang, "microphone_ok", level=f"{level:.0f}"))


def screen(source: Callable[[], Source] | None, lang: str = "en") -> CheckResult:
    name = t(lang, "check_screen")
    fix = t(lang, "screen_fix")
    if source is None:
        return CheckResult(name, "fail", t(lang, "screen_missing"), fix)
    try:
        from PIL import Image

        shot = Image.open(io.BytesIO(capture_once(source))).convert("L")
    except Exception as exc:
        return CheckResult(name, "fail", t(lang, "screen_failed", why=type(exc).__name__), fix)
    low, high = shot.getextrema()  # a greyscale picture: one (low, high) pair
    assert isinstance(low, int | float)
    assert isinstance(high, int | float)
    if high - low < 8:  # one flat colour: what a system that refuses screen recording hands out
        return CheckResult(name, "warn", t(lang, "screen_empty"), fix)
    return CheckResult(name, "pass", t(lang, "screen_ok", width=shot.width, height=shot.height))


def disk(folder: Path, lang: str = "en") -> CheckResult:
    name = t(lang, "check_disk")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    gb = f"{free / 1024**3:.1f}"
    found = t(lang, "disk_found", gb=gb if lang == "en" else gb.replace(".", ","))
    fix = t(lang, "disk_fix")
    if free < DISK_MINIMUM:
        return CheckResult(name, "fail", found, fix)
    if free < DISK_NEEDED:
        return CheckResult(name, "warn", found, fix)
    return CheckResult(name, "pass", found)


def clock_offset(server_url: str, timeout: float = 10.0) -> float:
    """Seconds this computer's clock is ahead of the server's (negative: behind), from the HTTP Date
    header of a light request, measured at the middle of the round trip. Date has whole seconds, so
    the answer is good to about a second, which is what the check needs."""
    sent = time.time()
    response = httpx.get(server_url.rstrip("/") + "/healthz", timeout=timeout)
    received = time.time()
    date = response.headers.get("date")
    if not date:
        raise ValueError("the server sent no Date header")
    server = parsedate_to_datetime(date).timestamp() + 0.5  # the middle of the server's second
    return (sent + received) / 2 - server


def clock(server_url: str, lang: str = "en") -> CheckResult:
    name = t(lang, "check_clock")
    try:
        offset = clock_offset(server_url)
    except (httpx.HTTPError, ValueError) as exc:
        return CheckResult(
            name,
            "warn",
            t(lang, "clock_failed", why=type(exc).__name__),
            t(lang, "clock_failed_fix"),
        )
    found = t(lang, "clock_ahead" if offset > 0 else "clock_behind", seconds=f"{abs(offset):.0f}")
    fix = t(lang, "clock_fix")
    if abs(offset) >= CLOCK_FAIL_SECONDS:
        return CheckResult(name, "fail", found, fix)
    if abs(offset) >= CLOCK_WARN_SECONDS:
        return CheckResult(name, "warn", found, fix)
    return CheckResult(name, "pass", t(lang, "clock_ok"))
