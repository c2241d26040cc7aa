"""The one rule for a reason a person writes down: a decision, an erasure, a legal hold, a
data-subject request. Someone else reads it later (a colleague, the exam board, the DPA), so "ok"
is not enough and a novel is not either; nothing is cut off silently."""

from __future__ import annotations

from invigil.kit.errors import Invalid

MIN_REASON = 10  # characters
MAX_TEXT = 5000


def written(text: str, ask: str, minimum: int = MIN_REASON) -> str:
    """``text`` stripped, or Invalid: ``ask`` says what to write and why, e.g. "Give the reason"."""
    text = text.strip()
    if len(text) < minimum:
        raise Invalid(f"{ask} (at least {minimum} characters).")
    if len(text) > MAX_TEXT:
        raise Invalid(f"That is too long ({len(text)} characters; at most {MAX_TEXT}).")
    return text
