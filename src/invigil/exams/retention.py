"""Retention per data category, in days. Institutions set defaults; each exam may override."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invigil.kit.errors import Invalid

_DAY = Field(ge=1, le=3650)


class Retention(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    webcam: int = Field(default=21, ge=1, le=3650)
    screen: int = Field(default=180, ge=1, le=3650)
    audio: int = Field(default=21, ge=1, le=3650)
    process_and_browser_logs: int = Field(default=180, ge=1, le=3650)
    biometric: int = Field(default=21, ge=1, le=3650)
    handins: int = Field(default=1825, ge=1, le=3650)
    flags_and_decisions: int = Field(default=365, ge=1, le=3650)
    access_and_audit_logs: int = Field(default=365, ge=1, le=3650)
    identity: int = Field(default=180, ge=1, le=3650)


# Which retention category each evidence kind falls under.
CATEGORY_OF_KIND = {
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


def parse_retention(data: dict[str, Any] | None) -> Retention:
    try:
        return Retention.model_validate(data or {})
    except ValidationError as exc:
        parts = [
            f"{'.'.join(str(p) for p in e['loc'])}: "
            + ("is not a data category" if e["type"] == "extra_forbidden" else "must be 1 to 3650 days")
            for e in exc.errors()
        ]
        raise Invalid(f"The retention periods are not valid: {'; '.join(parts)}.") from exc
