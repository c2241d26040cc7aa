"""The session state machine refuses impossible moves."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from invigil.kit.errors import Conflict
from invigil.sessions.states import ALLOWED, State, move


@dataclass
class Obj:
    state: str


def test_happy_path():
    o = Obj("issued")
    for to in (
        State.ACTIVATED,
        State.RUNNING,
        State.OFFLINE,
        State.RUNNING,
        State.HANDED_IN,
        State.TAIL,
        State.CLOSED,
    ):
        move(o, to)
    assert o.state == "closed"


@pytest.mark.parametrize("final", [State.CLOSED, State.ABANDONED])
def test_final_states_are_final(final):
    assert ALLOWED[final] == frozenset()
    for to in State:
        if to != final:
            with pytest.raises(Conflict):
                move(Obj(final.value), to)


def test_no_hand_in_before_activation_and_no_return_after_hand_in():
    with pytest.raises(Conflict):
        move(Obj("issued"), State.HANDED_IN)
    with pytest.raises(Conflict):
        move(Obj("handed_in"), State.RUNNING)
