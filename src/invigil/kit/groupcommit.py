"""Group commit: small units of work from many requests, run on one thread, many to a transaction.

Heartbeats and event batches are tiny writes that arrive by the thousand. Run one transaction per
request on the thread pool, and every request pays for a thread hop, a pool checkout, a commit
and, on SQLite, a wait for the single write lock (docs/adr/0010-group-commit-and-backpressure.md). Here an
``async`` endpoint hands its unit of work, a function of a ``Session``, to ``GroupCommit.run``. One
thread takes whatever has queued up meanwhile (up to ``max_batch``), runs the functions one after the
other in one session, commits once, and only then answers each waiting request: nothing is
acknowledged before it is committed. SQLite has one writer, so one thread; with PostgreSQL a few
threads keep several batches in flight, as each statement is a round trip to the server.

If any function raises, or the commit fails, the whole batch is rolled back and every function in it
runs again alone, in a transaction of its own, so each request gets exactly the answer or the error
it would have had by itself. The functions must therefore be repeatable and only touch the database
(no blob writes): the service functions they call already are, as retries by agents need that too.

A thread that wakes to a short queue waits up to ``linger`` seconds for more (PostgreSQL's
``commit_delay`` idea): at a few hundred requests a second units otherwise arrive one or two at a
time, and each batch pays the session, the transaction and the thread handover for very few units.
A few milliseconds more per request buy batches several times larger (docs/benchmarks.md).

When ``max_pending`` units are waiting, ``run`` refuses the next one at once with 503 and
``Retry-After`` (kit/backpressure.py); agents treat it like any transient error and retry with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from invigil.kit.backpressure import busy
from invigil.kit.db import unit_of_work

T = TypeVar("T")
log = logging.getLogger("invigil.groupcommit")


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]


_Answer = tuple[_Job[Any], Any, BaseException | None]


def _answer(answers: list[_Answer]) -> None:
    """Wake each waiting request, with one call into each event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for answer in answers:
        by_loop.setdefault(answer[0].loop, []).append(answer)
    for loop, some in by_loop.items():
        loop.call_soon_threadsafe(_settle, some)


def _settle(answers: list[_Answer]) -> None:
    for job, result, error in answers:
        if job.future.done():  # the request went away (client disconnected); the work is done anyway
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)


class GroupCommit:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        max_batch: int = 64,
        max_pending: int = 1000,
        retry_after: int = 2,
        threads: int = 1,
        linger: float = 0.0,
    ) -> None:
        self._sessions = sessions
        self.max_batch, self.max_pending, self.retry_after = max_batch, max_pending, retry_after
        self.linger = linger
        self._lingering = 0  # threads waiting for a batch to fill: no need to wake another
        self._queue: deque[_Job[Any]] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._size = threads
        self._threads: list[threading.Thread] = []
        self.batches = self.units = 0  # for tests and benchmarks

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(db)`` in the next group transaction; its result once that has committed."""
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(work, loop, loop.create_future())
        with self._wake:
            if self._stopping or len(self._queue) >= self.max_pending:
                raise busy(self.retry_after)
            if not self._threads:
                self._start()
            self._queue.append(job)
            if not self._lingering or len(self._queue) >= self.max_batch:  # a lingering thread will take it
                self._wake.notify()
        return await job.future

    def _start(self) -> None:
        for n in range(self._size):
            thread = threading.Thread(target=self._loop, name=f"invigil-group-commit-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the threads."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if not self._queue:
                    return
                if self.linger and not self._stopping and len(self._queue) < self.max_batch:
                    until = time.monotonic() + self.linger
                    self._lingering += 1
                    while len(self._queue) < self.max_batch and not self._stopping:
                        left = until - time.monotonic()
                        if left <= 0:
                            break
                        self._wake.wait(left)
                    self._lingering -= 1
                    if not self._queue:  # another thread took them meanwhile
                        continue
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            self._execute(batch)

    def _execute(self, batch: list[_Job[Any]]) -> None:
        _answer(self._attempt(batch))

    def _attempt(self, batch: list[_Job[Any]]) -> list[_Answer]:
        results = []
        try:
            with unit_of_work(self._sessions) as db:
                for job in batch:
                    results.append(job.work(db))
        except BaseException as exc:  # every error goes back to its request
            if len(batch) == 1:
                return [(batch[0], None, exc)]
            # Rolled back: each one again, alone, for its own answer.
            return [answer for job in batch for answer in self._attempt([job])]
        self.batches += 1
        self.units += len(batch)
        return [(job, result, None) for job, result in zip(batch, results, strict=True)]
