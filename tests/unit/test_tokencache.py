"""The token cache forgets a session when it leaves the live states, and entries expire."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from invigil.sessions import tokencache
from invigil.sessions.states import State, move


@dataclass
class _Session:
    state: str
    token_hash: str | None


@pytest.fixture(autouse=True)
def _empty():
    tokencache.clear()
    yield
    tokencache.clear()


def _remember(token_hash: str) -> None:
    tokencache.put(token_hash, tokencache.Identity("s1", "e1", "kid"))


@pytest.mark.parametrize("to", [State.CLOSED, State.ABANDONED])
def test_leaving_the_live_states_forgets_the_token(to):
    session = _Session(State.TAIL.value if to is State.CLOSED else State.RUNNING.value, "h1")
    _remember("h1")
    move(session, to)
    assert tokencache.get("h1") is None


@pytest.mark.parametrize(
    ("start", "to"), [(State.ACTIVATED, State.RUNNING), (State.RUNNING, State.HANDED_IN)]
)
def test_live_to_live_keeps_it(start, to):
    _remember("h1")
    move(_Session(start.value, "h1"), to)
    assert tokencache.get("h1") == tokencache.Identity("s1", "e1", "kid")


def test_entries_expire(monkeypatch):
    _remember("h1")
    now = tokencache.time.monotonic()
    monkeypatch.setattr(tokencache.time, "monotonic", lambda: now + tokencache.TTL + 1)
    assert tokencache.get("h1") is None


def test_an_entry_in_use_stays_and_expires_a_ttl_after_its_last_use(monkeypatch):
    _remember("h1")
    start = tokencache.time.monotonic()
    clock = [start]
    monkeypatch.setattr(tokencache.time, "monotonic", lambda: clock[0])
    for step in range(1, 6):  # used every 0.8 TTL, for four TTLs
        clock[0] = start + step * 0.8 * tokencache.TTL
        assert tokencache.get("h1") is not None, step
    clock[0] += tokencache.TTL + 1  # then not used for longer than the TTL
    assert tokencache.get("h1") is None


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(tokencache, "MAX_ENTRIES", 3)
    for n in range(5):
        _remember(f"h{n}")
    assert len(tokencache._entries) <= 3
    assert tokencache.get("h4") is not None
