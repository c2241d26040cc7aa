"""Capture sources. Each produces plaintext bytes of one evidence kind; the runtime seals them.

Event sources observe facts that are sent as ordinary events and never sealed (focus, removable
storage, monitors, virtual-machine and remote-desktop signs: docs/protocol.md, "Activity events").
Either kind of source may also have ``finish()``, called once when capture stops (clearing the
clipboard at the end), and ``every`` (seconds), its own polling interval, which overrides the policy's
(a hand-in folder is polled every few seconds so that each saved version is kept).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class Source(Protocol):
    kind: str

    def capture(self) -> bytes:
        """One capture, as plaintext bytes (sealed immediately by the caller). Empty bytes: nothing
        new this time (a hand-in folder nobody saved in), so nothing is sealed."""


@runtime_checkable
class EventSource(Protocol):
    kind: str  # a name for logs and the spool ("focus", "environment", ...), not an evidence kind

    def poll(self) -> list[dict[str, Any]]:
        """The events observed since the last poll: ``{"type", "at", "data"?}`` without content."""
