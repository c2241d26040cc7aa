"""The TOTP rules of accounts/twofactor.py: ±1 step of clock skew, and no code accepted twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from invigil.accounts import twofactor
from invigil.accounts.models import Role, Staff
from invigil.kit import totp

SECRET = totp.new_secret()
NOW = datetime(2026, 11, 22, 12, 0, 10, tzinfo=UTC)


def person() -> Staff:
    return Staff(email="a@uni.example", role="reviewer", totp_secret=SECRET)


def code(offset_steps: int) -> str:
    return totp.code_at(SECRET, NOW + timedelta(seconds=offset_steps * totp.STEP_SECONDS))


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_one_step_of_skew_either_side(offset):
    assert twofactor.verify(None, person(), code(offset), NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_further_steps_are_refused(offset):
    assert not twofactor.verify(None, person(), code(offset), NOW)  # type: ignore[arg-type]


def test_a_code_works_once():
    staff = person()
    assert twofactor.verify(None, staff, code(0), NOW)  # type: ignore[arg-type]
    assert not twofactor.verify(None, staff, code(0), NOW + timedelta(seconds=5))  # type: ignore[arg-type]
    # ... and so does any earlier one, still within the skew:
    assert not twofactor.verify(None, staff, code(-1), NOW)  # type: ignore[arg-type]
    # The next step's code is new.
    later = NOW + timedelta(seconds=totp.STEP_SECONDS)
    assert twofactor.verify(None, staff, code(1), later)  # type: ignore[arg-type]
    assert staff.totp_last_step == totp.step_at(later)


def test_no_code_without_enrolment_and_every_role_needs_it():
    assert not twofactor.verify(None, Staff(role="admin"), "123456", NOW)  # type: ignore[arg-type]
    assert all(twofactor.needs_two_factor(role) for role in Role)


def test_enrolment_on_behalf_leaves_the_current_step_free():
    staff = Staff(email="b@uni.example", role="coordinator")
    added: list[object] = []

    logged: list[object] = []

    class FakeDb:
        def __init__(self) -> None:
            self.info: dict[str, object] = {}

        def scalars(self, _query):
            return []

        def add(self, row):  # the access-log entry of the enrolment
            logged.append(row)

        def add_all(self, rows):
            added.extend(rows)

        def flush(self):
            pass

    secret, codes = twofactor.enrol_on_behalf(FakeDb(), staff, NOW)  # type: ignore[arg-type]
    assert staff.totp_secret == secret
    assert len(codes) == len(added) == twofactor.RECOVERY_CODES
    assert [e.action for e in logged] == ["twofactor.enrol"]  # type: ignore[attr-defined]
    assert twofactor.verify(None, staff, totp.code_at(secret, NOW), NOW)  # type: ignore[arg-type]
