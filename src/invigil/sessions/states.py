"""The session state machine. Every state change goes through ``move``."""

from __future__ import annotations

import enum
from typing import Any, Protocol

from invigil.kit.errors import Conflict
from invigil.sessions import tokencache


class State(enum.StrEnum):
    ISSUED = "issued"  # code issued, not yet used
    ACTIVATED = "activated"  # code used, agent holds a session token, no heartbeat yet
    RUNNING = "running"  # heartbeats arriving
    OFFLINE = "offline"  # no heartbeat for offline_after_seconds before hand-in
    HANDED_IN = "handed_in"  # receipt issued, tail period starting
    TAIL = "tail"  # agent confirmed the tail period (capture goes on until it ends)
    CLOSED = "closed"  # tail over, agent stopped
    ABANDONED = "abandoned"  # never activated, or never handed in, by the end of the exam


ALLOWED: dict[State, frozenset[State]] = {
    State.ISSUED: frozenset({State.ACTIVATED, State.ABANDONED}),
    State.ACTIVATED: frozenset({State.RUNNING, State.OFFLINE, State.HANDED_IN, State.ABANDONED}),
    State.RUNNING: frozenset({State.OFFLINE, State.HANDED_IN, State.ABANDONED}),
    State.OFFLINE: frozenset({State.RUNNING, State.HANDED_IN, State.ABANDONED}),
    State.HANDED_IN: frozenset({State.TAIL, State.CLOSED}),
    State.TAIL: frozenset({State.CLOSED}),
    State.CLOSED: frozenset(),
    State.ABANDONED: frozenset(),
}

# States in which the agent's session token works.
LIVE = frozenset({State.ACTIVATED, State.RUNNING, State.OFFLINE, State.HANDED_IN, State.TAIL})
BEFORE_HANDIN = frozenset({State.ACTIVATED, State.RUNNING, State.OFFLINE})


class HasState(Protocol):
    state: Any


def move(obj: HasState, to: State) -> None:
    current = State(obj.state)
    if current == to:
        return
    if to not in ALLOWED[current]:
        raise Conflict(f"A session that is {current.value} cannot become {to.value}.")
    obj.state = to.value
    if to not in LIVE:  # its token stops working: this process forgets it now (tokencache.py)
        tokencache.forget(getattr(obj, "token_hash", None))
