"""Capture sources. Each produces plaintext bytes of one evidence kind; the runtime seals them."""

from __future__ import annotations

from typing import Protocol


class Source(Protocol):
    kind: str

    def capture(self) -> bytes:
        """One capture, as plaintext bytes (sealed immediately by the caller)."""
