"""What the candidate's program shows: the ``Screen`` snapshot its views draw, the steps' headings
and instructions, and the receipt as text. Both views (window.py, headless.py) take their words from
here and from texts.py (in the screen's language), and the state machine (program.py) fills in the
screen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from invigil.agent.checks import CheckResult
from invigil.agent.texts import number, t
from invigil.kit.clock import utcnow

Step = Literal[
    "connect",
    "connecting",
    "notice",
    "declined",
    "checks",
    "id_photo",
    "room_scan",
    "pin",
    "recording",
    "confirm_handin",
    "handing_in",
    "handed_in",
    "stopped",
    "failed",
]

# What the candidate is told is being recorded (a message key), per evidence kind a running source
# produces.
RECORDING_NAMES = {
    "screenshot": "rec_screen",
    "webcam_frame": "rec_webcam",
    "webcam_clip": "rec_webcam",
    "audio_clip": "rec_microphone",
    "process_snapshot": "rec_processes",
    "browser_history": "rec_browser_history",
    "handin_backup": "rec_handin_folder",
    "reference_photo": "rec_webcam",
}

# The steps with an instruction: what the candidate does now (``instruction_<step>`` in texts.py).
INSTRUCTED = (
    "connect",
    "notice",
    "checks",
    "id_photo",
    "room_scan",
    "pin",
    "recording",
    "confirm_handin",
    "handed_in",
)


def heading(s: Screen) -> str:
    """The step's heading, in the candidate's language."""
    return t(s.lang, f"heading_{s.step}")


def instruction(s: Screen) -> str:
    """What the candidate does now, or nothing on steps that need no instruction."""
    return t(s.lang, f"instruction_{s.step}") if s.step in INSTRUCTED else ""


def status_word(s: Screen, status: str) -> str:
    return t(s.lang, f"status_{status}")


@dataclass(frozen=True)
class Screen:
    """Everything a view shows. A new one (higher ``serial``) after every change."""

    serial: int = 0
    step: Step = "connect"
    lang: str = "en"  # the candidate's: en, da, de or sv (texts.py), the privacy notice's
    server: str = ""
    message: str = ""  # what went wrong or what to do now, in a sentence
    tone: Literal["info", "problem"] = "info"  # a problem is shown as one (colour, sign)
    busy: str = ""  # what the program is doing while the candidate waits
    notice: dict[str, Any] | None = None
    checks: tuple[CheckResult, ...] = ()
    exam_title: str = ""
    exam_starts_at: datetime | None = None
    exam_ends_at: datetime | None = None
    recording: tuple[str, ...] = ()  # names of what is being recorded, while anything is
    test_mode: str = ""  # SAMPLE_LABEL when no real capture sources are installed
    preview: bytes | None = None  # PNG of the latest camera picture
    photos: int = 0  # ID photos kept / room-scan pictures taken
    handin_dir: str = ""
    assignment_dir: str = ""
    assignment_files: tuple[str, ...] = ()
    handin_files: tuple[tuple[str, int], ...] = ()  # (name, bytes) awaiting confirmation
    handed_files: tuple[str, ...] = ()  # the names of the files handed in
    receipt: dict[str, Any] | None = None
    receipt_secret: str = ""
    receipt_file: str = ""
    tail_ends_at: datetime | None = None

    @property
    def can_continue(self) -> bool:
        """The system check lets the candidate go on when nothing failed."""
        return self.step == "checks" and bool(self.checks) and all(c.status != "fail" for c in self.checks)

    @property
    def recording_line(self) -> str:
        return t(self.lang, "recording_line", what=", ".join(self.recording)) if self.recording else ""

    @property
    def finished(self) -> bool:
        return self.step in ("declined", "stopped", "failed")


def countdown(until: datetime | None, now: datetime | None = None, lang: str = "en") -> str:
    """'1 h 05 min' above an hour, '12:07' below; '0:00' when over."""
    if until is None:
        return ""
    left = max(0, int((until - (now or utcnow())).total_seconds()))
    hours, rest = divmod(left, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return t(lang, "clock_hours", hours=hours, minutes=f"{minutes:02d}")
    return f"{minutes}:{seconds:02d}"


def exam_clock(s: Screen, now: datetime | None = None) -> tuple[str, str]:
    """(label, countdown) for the running exam: the time to its start while it has not begun (codes
    work from half an hour before), then the time left; after the hand-in, the tail."""
    now = now or utcnow()
    if s.step == "handed_in" and s.tail_ends_at is not None:
        return t(s.lang, "tail_in"), countdown(s.tail_ends_at, now, s.lang)
    if s.exam_starts_at is not None and now < s.exam_starts_at:
        return t(s.lang, "starts_in"), countdown(s.exam_starts_at, now, s.lang)
    return t(s.lang, "time_left"), countdown(s.exam_ends_at, now, s.lang)


def receipt_text(screen: Screen) -> str:
    """The receipt as the candidate keeps it: the same text on screen, in the terminal and on disk."""
    receipt = screen.receipt or {}
    body = receipt.get("body", {})
    files = body.get("files", [])
    lang = screen.lang
    lines = [
        t(lang, "receipt_title", exam=screen.exam_title),
        t(lang, "receipt_handed_in", when=_when(body.get("handed_in_at"))),
        t(lang, "receipt_files", files=", ".join(screen.handed_files) or number(len(files), lang)),
        "",
        t(lang, "receipt_portal"),
        f"  {receipt.get('portal_url', '')}",
        "",
        t(lang, "receipt_secret"),
        f"  {screen.receipt_secret}",
    ]
    return "\n".join(lines) + "\n"


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return str(value or "")
