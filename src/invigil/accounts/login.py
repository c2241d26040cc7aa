"""Every login attempt, API or browser, goes through ``attempt``: refused while the account or the
client network is locked out, failures counted (in their own transaction, so that they survive the
refusal), the account's count cleared once a login is complete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from invigil.accounts import throttle
from invigil.audit import service as audit
from invigil.container import Container
from invigil.kit.errors import Unauthorized

T = TypeVar("T")


class LoginFailed(Unauthorized):
    """Wrong institution, email or password (one message for all: nothing is revealed), or a wrong
    code once the password was right."""

    def __init__(self, message: str = "Wrong email or password.") -> None:
        super().__init__(message)


def attempt(
    c: Container,
    institution: str,
    email: str,
    client: str,
    now: datetime,
    step: Callable[[Session], T],
    completes: bool = True,
) -> T:
    """Run ``step`` as one attempt. ``completes=False`` for the password half of a two-step login:
    its success must not wipe the count of wrong codes that follow it."""
    limits = throttle.Limits.from_settings(c.settings)
    account, network = throttle.account_key(institution, email), throttle.client_key(client)
    with c.uow() as db:
        throttle.check(db, [account, network], now)
    try:
        with c.uow() as db:
            result = step(db)
            if completes:
                throttle.clear(db, account)
            return result
    except LoginFailed:
        with c.uow() as db:
            throttle.fail(db, account, network, limits, now)
            # Who tried is a hash of institution and email: whether the account exists stays unsaid.
            audit.record(
                db,
                actor_kind="anonymous",
                actor_id=account[:64],
                action="login.failed",
                at=now,
                network=client,
            )
        raise
