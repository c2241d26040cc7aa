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

Units of one *kind* can also share their statements (``run_batched``): the heartbeats in a batch
become one ``UPDATE`` for all of them, say. A ``Batched`` kind turns the items of its units in one
batch into their results at once (``run_many``); alone, a unit is a batch of one. On PostgreSQL,
where every statement is a round trip, this is most of what a small unit costs
(docs/adr/0025-shared-statements-in-group-commit.md). If ``run_many`` raises, the batch is rolled back
and every unit runs alone, as above.

When ``max_pending`` units are waiting, ``run`` refuses the next one at once with 503 and
``Retry-After`` (kit/backpressure.py); agents treat it like any transient error and retry with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from invigil.kit.backpressure import busy

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741
R = TypeVar("R")
I_contra = TypeVar("I_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)
log = logging.getLogger("invigil.groupcommit")


class Batched(Protocol[I_contra, R_co]):
    """A kind of unit whose items in one batch are run together, with statements they share."""

    def run_many(self, db: Session, items: Sequence[I_contra]) -> Sequence[R_co]:
        """One result per item, in order. Repeatable and database only, like every unit."""
        ...


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    kind: Batched[Any, T] | None = None  # its batch runs it together with the others of its kind
    item: Any = None


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
        self._engine: Engine = sessions.kw["bind"]
        self._local = threading.local()  # each thread's own connection, kept from batch to batch
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
        return await self._submit(_Job(work, loop, loop.create_future()))

    async def run_batched(self, kind: Batched[I, R], item: I) -> R:
        """Like ``run``, for a unit of a ``Batched`` kind: the units of that kind in the same batch
        run together, ``kind.run_many(db, items)``."""
        loop = asyncio.get_running_loop()

        def alone(db: Session) -> R:
            return kind.run_many(db, [item])[0]

        return await self._submit(_Job(alone, loop, loop.create_future(), kind, item))

    async def _submit(self, job: _Job[T]) -> T:
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
        try:
            self._serve()
        finally:
            conn: Connection | None = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()

    def _serve(self) -> None:
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
        try:
            with self._transaction() as db:
                results = _run_jobs(db, batch)
        except BaseException as exc:  # every error goes back to its request
            if len(batch) == 1:
                return [(batch[0], None, exc)]
            # Rolled back: each one again, alone, for its own answer.
            return [answer for job in batch for answer in self._attempt([job])]
        self.batches += 1
        self.units += len(batch)
        return [(job, result, None) for job, result in zip(batch, results, strict=True)]

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A session on this thread's own connection, committed if the block succeeds. The
        connection stays checked out between batches: taking one from the pool costs a round trip
        to PostgreSQL each time (the pool's liveness check). After a database error it is dropped,
        and the next batch takes a fresh one, checked."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._engine.connect()
        session = self._sessions(bind=conn)
        try:
            yield session
            session.commit()
        except BaseException as exc:
            try:
                session.rollback()
            except Exception:
                self._drop(conn)
                raise exc from None
            if _database_failure(exc):
                self._drop(conn)
            raise
        finally:
            session.close()

    def _drop(self, conn: Connection) -> None:
        self._local.conn = None
        with suppress(Exception):
            conn.invalidate()
            conn.close()


def _database_failure(exc: BaseException) -> bool:
    """Did the connection itself fail (not a unit refusing a request)? SQLAlchemy's wrapped errors
    and the drivers' own (kit/rawsql.py raises those) count; after one, the connection is suspect."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    drivers = ("sqlite3", "psycopg")
    return any(
        cls.__name__ in ("OperationalError", "InterfaceError") and cls.__module__.startswith(drivers)
        for cls in type(exc).__mro__
    )


def _run_jobs(db: Session, jobs: list[_Job[Any]]) -> list[Any]:
    """Each job's result: plain units one by one in order, then the units of each kind together."""
    results: list[Any] = [None] * len(jobs)
    kinds: dict[int, tuple[Batched[Any, Any], list[int]]] = {}
    for i, job in enumerate(jobs):
        if job.kind is None or len(jobs) == 1:
            results[i] = job.work(db)
        else:
            kinds.setdefault(id(job.kind), (job.kind, []))[1].append(i)
    for kind, positions in kinds.values():
        out = kind.run_many(db, [jobs[i].item for i in positions])
        if len(out) != len(positions):
            raise AssertionError(f"{kind!r}.run_many gave {len(out)} results for {len(positions)} items")
        for i, result in zip(positions, out, strict=True):
            results[i] = result
    return results
