"""Retention per data category, in days. Institutions set defaults; each exam may override."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from invigil.kit.errors import Invalid
from invigil.protocol.policy import CATEGORY_OF_KIND, KEY_CATEGORIES

__all__ = ["CATEGORY_OF_KIND", "KEY_CATEGORIES", "Retention", "parse_retention"]

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


def expires_at(ends_at: datetime, retention: dict[str, Any], category: str) -> datetime:
    """When a category's data of an exam must be gone: the exam's end plus the category's period."""
    return ends_at + timedelta(days=int(parse_retention(retention).model_dump()[category]))
