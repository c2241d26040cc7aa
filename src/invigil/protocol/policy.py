"""The exam policy: the full catalogue of what an exam may collect. Everything is off by default.

Validation messages are written for the exam coordinator who fills in the policy form, not for a
programmer: they name the setting in plain words and say how to fix it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from invigil.kit.errors import Invalid

MIN_INTERVAL = 5
MAX_INTERVAL = 3600


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntervalRange(_Part):
    """A randomized interval: the next capture comes at a random time in [min, max] seconds."""

    min_seconds: int = 60
    max_seconds: int = 180

    @model_validator(mode="after")
    def _check(self) -> IntervalRange:
        if self.min_seconds < MIN_INTERVAL:
            raise ValueError(f"the shortest interval is {MIN_INTERVAL} seconds")
        if self.max_seconds > MAX_INTERVAL:
            raise ValueError("the longest interval is one hour (3600 seconds)")
        if self.min_seconds > self.max_seconds:
            raise ValueError(
                f"the interval runs from {self.min_seconds} to {self.max_seconds} seconds: "
                "the first number must not be larger than the second"
            )
        return self


class Screenshots(_Part):
    enabled: bool = False
    interval: IntervalRange = IntervalRange()
    all_monitors: bool = True


class Webcam(_Part):
    enabled: bool = False
    mode: Literal["snapshots", "clips"] = "snapshots"
    interval: IntervalRange = IntervalRange(min_seconds=30, max_seconds=90)
    clip_seconds: int = Field(default=10, ge=2, le=60)


class Microphone(_Part):
    enabled: bool = False
    mode: Literal["detection", "recording"] = "detection"
    clip_seconds: int = Field(default=15, ge=2, le=120)


def _entries(values: list[str], what: str, example: str) -> list[str]:
    for value in values:
        if not value.strip():
            raise ValueError(f"an empty entry in the list of {what}: remove it")
        if len(value) > 200:
            raise ValueError(f"{value[:30]!r}… is too long for the list of {what} (200 characters at most)")
        bare = value.removeprefix("https://").removeprefix("http://").rstrip("/")
        if what == "allowed sites" and ("/" in bare or " " in bare):
            raise ValueError(f"{value!r} is not a site: give the site's name only, e.g. {example}")
    return values


class ProcessSnapshots(_Part):
    enabled: bool = False
    interval_seconds: int = Field(default=60, ge=MIN_INTERVAL, le=MAX_INTERVAL)
    # Matched by program name (".exe" ignored), the file at the end of its path, or a word in its
    # window title; "*" and "?" make patterns (analysis/activity.py).
    forbidden: list[str] = Field(default_factory=list, max_length=500)

    @field_validator("forbidden")
    @classmethod
    def _forbidden(cls, values: list[str]) -> list[str]:
        return _entries(values, "forbidden programs", "discord")


class BrowserHistory(_Part):
    enabled: bool = False
    # A site allows its subdomains: "uni.example" allows "moodle.uni.example".
    allowed_sites: list[str] = Field(default_factory=list, max_length=500)

    @field_validator("allowed_sites")
    @classmethod
    def _sites(cls, values: list[str]) -> list[str]:
        return _entries(values, "allowed sites", "moodle.uni.example")


class Switch(_Part):
    enabled: bool = False


class RemovableStorage(_Part):
    mode: Literal["ignore", "record", "block"] = "ignore"


class Clipboard(_Part):
    clear_at_start_and_end: bool = False


class FaceVerification(_Part):
    enabled: bool = False
    # Deliberately coarse: scores are reported in this many bands, never as raw similarity.
    score_bands: int = Field(default=3, ge=2, le=5)


class Policy(_Part):
    screenshots: Screenshots = Screenshots()
    webcam: Webcam = Webcam()
    microphone: Microphone = Microphone()
    process_snapshots: ProcessSnapshots = ProcessSnapshots()
    browser_history: BrowserHistory = BrowserHistory()
    handin_folder_backup: Switch = Switch()
    removable_storage: RemovableStorage = RemovableStorage()
    clipboard: Clipboard = Clipboard()
    room_scan: Switch = Switch()
    id_check: Switch = Switch()
    face_verification: FaceVerification = FaceVerification()
    tail_period_seconds: int = Field(default=900, ge=0, le=3600)
    allowed_offline_seconds: int = Field(default=600, ge=0, le=24 * 3600)
    max_item_megabytes: int = Field(default=25, ge=1, le=2048)

    @model_validator(mode="after")
    def _coherent(self) -> Policy:
        webcam_needed = [
            name
            for name, on in (
                ("biometric face verification", self.face_verification.enabled),
                ("the room scan", self.room_scan.enabled),
                ("the ID check", self.id_check.enabled),
            )
            if on
        ]
        if webcam_needed and not self.webcam.enabled:
            raise ValueError(
                f"{' and '.join(webcam_needed)} need the webcam: switch the webcam on, or switch these off"
            )
        if self.webcam.mode == "clips" and self.webcam.clip_seconds > self.webcam.interval.min_seconds:
            raise ValueError(
                f"webcam clips of {self.webcam.clip_seconds} seconds do not fit between captures "
                f"every {self.webcam.interval.min_seconds} seconds: shorten the clips or "
                "lengthen the interval"
            )
        if self.process_snapshots.forbidden and not self.process_snapshots.enabled:
            raise ValueError(
                "a list of forbidden programs needs process-list snapshots: switch them on, or empty the list"
            )
        if self.browser_history.allowed_sites and not self.browser_history.enabled:
            raise ValueError(
                "allowed sites only matter when browser history is collected: switch it on, or empty the list"
            )
        return self

    @property
    def max_item_bytes(self) -> int:
        return self.max_item_megabytes * 1024 * 1024

    def collects(self, kind: str) -> bool:
        """Whether this policy lets the agent upload evidence of ``kind``."""
        return bool(COLLECTED_BY.get(kind, lambda _p: False)(self))


# Evidence kind -> the policy switch that allows it. Hand-ins are always accepted: they are the exam.
COLLECTED_BY: dict[str, Any] = {
    "screenshot": lambda p: p.screenshots.enabled,
    "webcam_frame": lambda p: p.webcam.enabled,
    "webcam_clip": lambda p: p.webcam.enabled and p.webcam.mode == "clips",
    "audio_clip": lambda p: p.microphone.enabled and p.microphone.mode == "recording",
    "process_snapshot": lambda p: p.process_snapshots.enabled,
    "browser_history": lambda p: p.browser_history.enabled,
    "handin_backup": lambda p: p.handin_folder_backup.enabled,
    "handin_file": lambda p: True,
    "room_scan": lambda p: p.room_scan.enabled,
    "id_photo": lambda p: p.id_check.enabled,
    "reference_photo": lambda p: p.face_verification.enabled,
}
EVIDENCE_KINDS = tuple(COLLECTED_BY)

# Evidence kind -> its retention category. Each category has its own exam keys (exams/keys.py), so
# that one category can be crypto-shredded when its retention ends while the others stay readable.
CATEGORY_OF_KIND: dict[str, str] = {
    "screenshot": "screen",
    "webcam_frame": "webcam",
    "webcam_clip": "webcam",
    "room_scan": "webcam",
    "id_photo": "identity",
    "audio_clip": "audio",
    "process_snapshot": "process_and_browser_logs",
    "browser_history": "process_and_browser_logs",
    "reference_photo": "biometric",
    "handin_file": "handins",
    "handin_backup": "handins",
}
KEY_CATEGORIES = tuple(sorted(set(CATEGORY_OF_KIND.values())))
assert set(CATEGORY_OF_KIND) == set(EVIDENCE_KINDS)


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted setting, message) per problem; the setting is "" for one about the policy as a whole.
    The policy editor shows each next to its field; ``parse_policy`` joins them into one message."""
    out = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"] if p != "__root__"]
        msg = item["msg"].removeprefix("Value error, ")
        ctx = item.get("ctx") or {}
        if item["type"] == "extra_forbidden":
            msg = "is not a policy setting (check the spelling)"
        elif item["type"] == "greater_than_equal":
            msg = f"must be at least {ctx.get('ge')}"
        elif item["type"] == "less_than_equal":
            msg = f"must be at most {ctx.get('le')}"
        elif item["type"] in ("int_parsing", "int_type", "int_from_float"):
            msg = "must be a whole number"
        out.append((".".join(loc), msg))
    return out


def _humanize(error: ValidationError) -> str:
    messages = []
    for where, msg in field_errors(error):
        words = " → ".join(p.replace("_", " ") for p in where.split(".")) if where else ""
        messages.append(f"{words}: {msg}" if words else msg)
    return "; ".join(messages)


def parse_policy(data: dict[str, Any] | None) -> Policy:
    """Validate a policy document; Invalid carries a message a coordinator can act on."""
    try:
        return Policy.model_validate(data or {})
    except ValidationError as exc:
        raise Invalid(f"The exam policy is not valid: {_humanize(exc)}.") from exc
