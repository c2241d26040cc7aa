"""One SQLite writer at a time, waiting in line instead of in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the write lock taken sleeps in
the busy handler (1, 2, 5, 10 … up to 100 ms steps) and checks again, so under load the lock sits
idle while writers sleep, and latency tails reach seconds (docs/benchmarks.md). Here a connection
takes a process-wide lock, and an advisory ``flock`` on ``<database>.writelock`` for the other
server processes, just before its first write statement, and gives both back when its transaction
ends. Waiters block in the kernel and wake as soon as the writer commits. Readers never wait: WAL
lets them read while someone writes.

SQLite holds its own write lock from the first write statement to the end of the transaction, so
this only orders what SQLite serializes anyway. If a holder vanishes without ending its transaction
(it cannot on a pooled connection: the pool rolls back on return), waiters give up after
``timeout`` seconds and fall back to SQLite's own busy handling.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


class WriteLock:
    """A lock shared by the threads of this process and, through ``flock``, by other processes."""

    def __init__(self, path: Path | None, timeout: float) -> None:
        self._lock = threading.Lock()
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path is not None else None
        self._timeout = timeout

    def acquire(self) -> bool:
        if not self._lock.acquire(timeout=self._timeout):
            return False
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # another server process may hold it
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_TAKE: weakref.WeakKeyDictionary[Engine, Callable[[Connection], None]] = weakref.WeakKeyDictionary()


def before_write(conn: Connection) -> None:
    """Take the write lock for a write that does not pass SQLAlchemy's cursor events (rawsql.py), as
    those events take it for every other write. Nothing on engines without the lock (PostgreSQL)."""
    take = _TAKE.get(conn.engine)
    if take is not None:
        take(conn)


def serialize_writes(engine: Engine, database: str | None, timeout: float = 30.0) -> WriteLock:
    """Install the lock on a SQLite engine; ``database`` is the file (None: in memory)."""
    path = Path(f"{database}.writelock") if database and database != ":memory:" else None
    lock = WriteLock(path, timeout)
    holder: list[int | None] = [None]  # id() of the DBAPI connection in a write transaction

    def _take(conn: Connection) -> None:
        dbapi = id(conn.connection.dbapi_connection)
        if holder[0] != dbapi and lock.acquire():
            holder[0] = dbapi

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            _take(conn)

    _TAKE[engine] = _take

    def _release(dbapi_connection: Any) -> None:
        # The dialect's commit and rollback get the pool's proxy of the connection; events the raw one.
        dbapi_connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        if dbapi_connection is not None and holder[0] == id(dbapi_connection):
            holder[0] = None
            lock.release()

    # After SQLite's own COMMIT or ROLLBACK, not before (the "commit" event comes before it), so
    # that the next writer never finds SQLite's lock still taken.
    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def _commit(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            _release(dbapi_connection)

    def _rollback(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            _release(dbapi_connection)

    dialect.do_commit = _commit  # type: ignore[method-assign]
    dialect.do_rollback = _rollback  # type: ignore[method-assign]
    # Belt and braces: a connection that goes back to the pool or away never keeps the lock.
    event.listen(engine, "checkin", lambda dbapi, _record: _release(dbapi))
    event.listen(engine, "invalidate", lambda dbapi, _record, _exc: _release(dbapi))
    return lock
