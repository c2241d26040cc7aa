"""The hottest statements, run straight on the DB-API cursor of the session's connection.

A heartbeat is one indexed ``UPDATE``; on SQLite the statement itself takes a few microseconds, and
SQLAlchemy's execute path around it (execution context, parameter processing, result set-up) took
about five times as long (docs/benchmarks.md). Here a Core statement is compiled once per dialect,
its parameters are bound through the column types' own bind processors (so values are stored
exactly as the ORM stores them: SQLite's datetime text, PostgreSQL's JSONB), and it runs on a
cursor of the session's own connection, inside the session's transaction.

Only for statements that need nothing more, which ``_compile`` checks: no ``IN`` lists (they expand
at run time: write ``or_``), and returned columns that come back from the driver as they are
(strings and numbers). On SQLite a write first takes the process's write lock as every other write
does (kit/sqlite_writes.py); on PostgreSQL the driver's transaction is the session's. Errors come
from the driver as they are (``sqlite3.Error``, ``psycopg.Error``), not wrapped as SQLAlchemy's: use
it for statements whose failure is a failure of the whole unit, never one a caller catches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Table, bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from invigil.kit import sqlite_writes

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Slot:
    """One parameter of the SQL: the caller's ``name``, or a ``constant`` of the statement."""

    name: str | None
    constant: Any
    process: _Processor


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool  # sqlite3 takes a tuple in ``slots`` order; psycopg a dict by ``names``
    slots: tuple[_Slot, ...]
    names: tuple[str, ...]
    writes: bool

    def parameters(self, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = [
            slot.constant
            if slot.name is None
            else (params[slot.name] if slot.process is None else slot.process(params[slot.name]))
            for slot in self.slots
        ]
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))


def _compile(stmt: Any, dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    for column in getattr(stmt, "exported_columns", ()):
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            raise TypeError(f"rawsql: column {column} needs result processing; use SQLAlchemy")
    slots: dict[str, _Slot] = {}
    for name, bind in compiled.binds.items():
        if bind.expanding:
            raise TypeError(f"rawsql: {name} is an IN list, which expands at run time; use or_()")
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.required:
            slots[name] = _Slot(name, None, process)
        else:
            value = bind.effective_value
            slots[name] = _Slot(None, process(value) if process else value, None)
    names = tuple(compiled.positiontup) if compiled.positional else tuple(slots)
    verb = compiled.string.lstrip()[:6].upper()
    writes = verb in ("INSERT", "UPDATE", "DELETE")
    return _Compiled(compiled.string, compiled.positional, tuple(slots[n] for n in names), names, writes)


class Statement:
    """A Core statement, compiled once per dialect, run on the session connection's cursor."""

    def __init__(self, stmt: Executable) -> None:
        self._stmt = stmt
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(dialect.name, _compile(self._stmt, dialect))
        return compiled

    def rows(self, db: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement returns (a ``SELECT`` or ``… RETURNING``)."""
        conn = db.connection()
        return _run(conn, self._for(conn), params, fetch=True)[0]

    def first(self, db: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(db, params)
        return rows[0] if rows else None

    def rowcount(self, db: Session, params: Mapping[str, Any]) -> int:
        """How many rows a write without ``RETURNING`` changed."""
        conn = db.connection()
        return _run(conn, self._for(conn), params, fetch=False)[1]


def _run(
    conn: Connection, compiled: _Compiled, params: Mapping[str, Any], fetch: bool
) -> tuple[list[tuple[Any, ...]], int]:
    values = compiled.parameters(params)
    if compiled.writes:
        sqlite_writes.before_write(conn)
    # sqlite3's and psycopg's connections both execute on a cursor of their own and return it.
    cursor = conn.connection.driver_connection.execute(compiled.sql, values)  # type: ignore[union-attr]
    try:
        rows = [tuple(row) for row in cursor.fetchall()] if fetch else []
        return rows, cursor.rowcount
    finally:
        cursor.close()


# Row counts with a statement of their own: agents send 1 to 5 events at a time, one statement each;
# a larger batch is split greedily (13 rows: 8 + 5). So the compiled statements per dialect stay
# few and small whatever batch sizes arrive, and no statement nears a driver's parameter limit.
CHUNKS = (128, 64, 32, 16, 8, 7, 6, 5, 4, 3, 2, 1)


def _chunks(count: int) -> list[int]:
    sizes = []
    for size in CHUNKS:
        while count >= size:
            sizes.append(size)
            count -= size
    return sizes


class InsertIgnore:
    """``INSERT … VALUES (…), (…) ON CONFLICT (unique) DO NOTHING RETURNING …`` for any number of
    rows, in one statement per chunk (``CHUNKS``), on SQLite and PostgreSQL alike."""

    def __init__(self, table: Table, columns: Sequence[str], unique: Sequence[str], returning: str) -> None:
        self._table, self._columns = table, tuple(columns)
        self._unique, self._returning = list(unique), returning
        self._by_count: dict[tuple[str, int], Statement] = {}

    def _statement(self, dialect: str, count: int) -> Statement:
        """One per dialect and row count; built under the GIL, a race only builds one twice."""
        statement = self._by_count.get((dialect, count))
        if statement is None:
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            c = self._table.c
            values = [
                {name: bindparam(f"r{i}_{name}", type_=c[name].type) for name in self._columns}
                for i in range(count)
            ]
            stmt = insert(self._table).values(values).on_conflict_do_nothing(index_elements=self._unique)
            statement = Statement(stmt.returning(c[self._returning]))
            self._by_count[(dialect, count)] = statement
        return statement

    def returned(self, db: Session, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The ``returning`` column of each row inserted (rows already there are skipped)."""
        dialect, returned, start = db.connection().dialect.name, [], 0
        for size in _chunks(len(rows)):
            chunk = rows[start : start + size]
            start += size
            params = {f"r{i}_{name}": row[name] for i, row in enumerate(chunk) for name in self._columns}
            returned += [row[0] for row in self._statement(dialect, size).rows(db, params)]
        return returned
