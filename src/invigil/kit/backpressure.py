"""Refuse work the server cannot start soon, instead of queueing it past the agents' timeouts.

Under overload a queue only grows: requests wait longer than the agents' timeout, the agents retry,
and the retries add load (docs/benchmarks.md, 2,000 candidates). Refusing at once with 503 and
``Retry-After`` keeps the latency of what is accepted bounded; agents treat 503 as transient and
retry with backoff, so nothing is lost (docs/adr/0010-group-commit-and-backpressure.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from invigil.kit.errors import ServiceUnavailable


class Busy(ServiceUnavailable):
    code = "busy"


def busy(retry_after: int) -> Busy:
    return Busy("The server is busy. Nothing was lost: try again shortly.", retry_after=retry_after)


class Gate:
    """At most ``limit`` units of work in flight; one more is refused at once. Event-loop use only."""

    def __init__(self, limit: int, retry_after: int = 2) -> None:
        self.limit, self.retry_after = limit, retry_after
        self.in_flight = 0

    @contextmanager
    def enter(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            raise busy(self.retry_after)
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
