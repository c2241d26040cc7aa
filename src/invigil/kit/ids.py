"""Identifiers. Client-chosen ids are validated here before they reach a query or a blob key."""

from __future__ import annotations

import re
import uuid

from invigil.kit.errors import BadRequest

_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$")


def new_id() -> str:
    return uuid.uuid4().hex


def check_client_id(value: str, what: str = "id") -> str:
    """Ids that agents choose: 8-64 characters of [A-Za-z0-9_-]; nothing that could be a path."""
    if not isinstance(value, str) or not _CLIENT_ID.match(value):
        raise BadRequest(
            f"The {what} must be 8 to 64 letters, digits, '-' or '_' (got {value!r:.80}).",
        )
    return value
