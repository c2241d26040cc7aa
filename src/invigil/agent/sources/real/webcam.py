"""Webcam snapshots (JPEG) or short clips (MP4) through OpenCV. The camera is a device index, or a
video file (tests, and a reviewer replaying a recording): a file loops when it reaches its end."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

JPEG_QUALITY = 85
CLIP_FPS = 10.0


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
    """``webcam_clip`` evidence: ``seconds`` of video at about 10 frames a second, MP4 (mp4v).

    From a device the clip takes its real time; from a file it takes the next ``seconds`` of the file.
    """

    kind = "webcam_clip"

    def __init__(self, camera: Camera, seconds: int) -> None:
        self.camera, self.seconds = camera, seconds

    def capture(self) -> bytes:
        import cv2

        first = self.camera.read()
        height, width = first.shape[:2]
        n = max(1, round(self.seconds * CLIP_FPS))
        step = max(1, round(self.camera.fps() / CLIP_FPS)) if self.camera.is_file else 1
        fd, name = tempfile.mkstemp(suffix=".mp4", prefix="invigil-clip-")
        os.close(fd)
        try:
            writer = cv2.VideoWriter(name, cv2.VideoWriter.fourcc(*"mp4v"), CLIP_FPS, (width, height))
            if not writer.isOpened():
                raise CameraUnavailable("OpenCV cannot write MP4 clips on this computer")
            try:
                writer.write(first)
                started = time.monotonic()
                for i in range(1, n):
                    for _ in range(step):
                        frame = self.camera.read()
                    if frame.shape[:2] != (height, width):
                        frame = cv2.resize(frame, (width, height))
                    writer.write(frame)
                    if not self.camera.is_file:  # keep real time: one frame every 1/CLIP_FPS seconds
                        time.sleep(max(0.0, started + i / CLIP_FPS - time.monotonic()))
            finally:
                writer.release()
            return Path(name).read_bytes()
        finally:  # the plaintext clip never stays on disk
            Path(name).unlink(missing_ok=True)
