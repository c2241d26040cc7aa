"""Who holds a session token, remembered briefly per process, so that an upload needs no query to
learn it.

What is cached never changes after activation: the session id, its exam and the candidate's key id.
Whether the session is still *live* is not cached: every write that trusts an entry checks the
session's state in the same transaction (``evidence/hotpath.py``), so a session closed or abandoned
by another process or node is refused at once, not after the TTL. This process also forgets a token
the moment its session leaves the live states (``states.move``), and an entry expires ``TTL`` seconds
after it was last used, so a token that stops being used does not stay in memory. (Counted from
when it was stored, half of all uploads missed: an agent uploads every 30 to 60 seconds.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

TTL = 60.0
MAX_ENTRIES = 100_000  # ≈ 10 MB; beyond it the cache starts over (a miss costs one query)


@dataclass(frozen=True)
class Identity:
    """The facts of a session that activation fixed for good."""

    id: str
    exam_id: str
    candidate_kid: str | None


_entries: dict[str, tuple[float, Identity]] = {}
_lock = threading.Lock()


def get(token_hash: str) -> Identity | None:
    hit = _entries.get(token_hash)
    if hit is None:
        return None
    now = time.monotonic()
    if now - hit[0] >= TTL:
        return None
    if now - hit[0] >= TTL / 2:  # used again: it stays (not on every hit, to write seldom)
        with _lock:
            if _entries.get(token_hash) is hit:  # not forgotten or replaced meanwhile
                _entries[token_hash] = (now, hit[1])
    return hit[1]


def put(token_hash: str, identity: Identity) -> None:
    """Remember a token that was just found live in the database."""
    with _lock:
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[token_hash] = (time.monotonic(), identity)


def forget(token_hash: str | None) -> None:
    """Call when the session of this token leaves the live states."""
    if token_hash is not None:
        with _lock:
            _entries.pop(token_hash, None)


def clear() -> None:
    with _lock:
        _entries.clear()
