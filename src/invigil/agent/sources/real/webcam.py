"""Webcam snapshots (JPEG) or short clips (animated WebP) through OpenCV. The camera is a device index,
or a video file (tests, and a reviewer replaying a recording): a file loops when it reaches its end."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

JPEG_QUALITY = 85
CLIP_FPS = 10.0
CLIP_WIDTH = 320  # clips show what happened, not detail: small to hold, seal and send
CLIP_QUALITY = 60
MAX_CLIP_FRAMES = 50


class CameraUnavailable(RuntimeError):
    """No frame could be read: the camera is missing, busy (another program), or the file unreadable."""


class Camera:
    """One open camera shared by the frame and clip sources; opened on first use, reopened after errors."""

    def __init__(self, device: int | str) -> None:
        self.device = device
        self._cap: Any = None
        self._lock = threading.Lock()

    @property
    def is_file(self) -> bool:
        return isinstance(self.device, str)

    def read(self) -> Any:
        """One BGR frame (numpy array)."""
        with self._lock:
            for _ in range(2):
                cap = self._open()
                ok, frame = cap.read()
                if ok and frame is not None:
                    return frame
                if self.is_file:  # the end of the file: start again from its beginning
                    import cv2

                    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    ok, frame = cap.read()
                    if ok and frame is not None:
                        return frame
                self.close_locked()
            raise CameraUnavailable(f"no picture from the camera {self.device!r}")

    def fps(self) -> float:
        import cv2

        with self._lock:
            value = float(self._open().get(cv2.CAP_PROP_FPS) or 0.0)
        return value if 1.0 <= value <= 120.0 else 30.0

    def _open(self) -> Any:
        import cv2

        if self._cap is None:
            if self.is_file and not Path(str(self.device)).is_file():
                raise CameraUnavailable(f"the video file {self.device} does not exist")
            cap = cv2.VideoCapture(self.device)
            if not cap.isOpened():
                cap.release()
                raise CameraUnavailable(f"the camera {self.device!r} cannot be opened (missing or busy)")
            self._cap = cap
        return self._cap

    def close_locked(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()


def encode_jpeg(frame: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise CameraUnavailable("the frame could not be encoded as JPEG")
    return bytes(buf)


class WebcamFrame:
    """``webcam_frame`` (or ``reference_photo``) evidence: one JPEG snapshot."""

    def __init__(self, camera: Camera, kind: str = "webcam_frame") -> None:
        self.camera, self.kind = camera, kind

    def capture(self) -> bytes:
        return encode_jpeg(self.camera.read())


class WebcamClip:
    """``webcam_clip`` evidence: ``seconds`` of video at about 10 frames a second (at most
    ``MAX_CLIP_FRAMES``: a longer clip gets fewer frames a second), as an animated WebP at most
    ``CLIP_WIDTH`` pixels wide. Pillow encodes the frames all at once, so their number bounds the
    memory a clip takes (50 frames of 320 x 240: 11.5 MB).

    Animated WebP because every browser plays it in an ``<img>``, so the reviewer and the student see
    the clip decrypted in their page; OpenCV's wheels can only write MPEG-4 Part 2, which no browser
    plays. Built in memory: the plaintext clip never touches the disk. From a device the clip takes
    its real time; from a file it takes the next ``seconds`` of the file.
    """

    kind = "webcam_clip"

    def __init__(self, camera: Camera, seconds: int) -> None:
        self.camera, self.seconds = camera, seconds

    def capture(self) -> bytes:
        first = self.camera.read()
        height, width = first.shape[:2]
        scale = min(1.0, CLIP_WIDTH / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        n = max(1, min(round(self.seconds * CLIP_FPS), MAX_CLIP_FRAMES))
        every = self.seconds / n  # seconds between frames
        step = max(1, round(self.camera.fps() * every)) if self.camera.is_file else 1
        frames = [_clip_frame(first, size)]
        started = time.monotonic()
        for i in range(1, n):
            for _ in range(step):
                frame = self.camera.read()
            frames.append(_clip_frame(frame, size))
            if not self.camera.is_file:  # keep real time: one frame every ``every`` seconds
                time.sleep(max(0.0, started + i * every - time.monotonic()))
        out = io.BytesIO()
        frames[0].save(
            out,
            "WEBP",
            save_all=True,
            append_images=frames[1:],
            duration=round(1000 * every),
            loop=0,
            quality=CLIP_QUALITY,
            method=2,  # quick: the agent must stay light (docs/benchmarks.md, agent footprint)
        )
        return out.getvalue()


def _clip_frame(frame: Any, size: tuple[int, int]) -> Any:
    """An OpenCV BGR frame as a Pillow RGB image of ``size``."""
    import cv2
    from PIL import Image

    if (frame.shape[1], frame.shape[0]) != size:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
