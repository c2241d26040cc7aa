"""kit/rawsql.py: statements on the driver's cursor store exactly what SQLAlchemy stores, read it back
the same way, run inside the session's transaction, take SQLite's write lock, and refuse what they
cannot do. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, func, insert, or_, select, update

from invigil.kit import rawsql
from invigil.sessions.models import Event, ExamSession
from tests.factories import make_exam

_events = cast(Table, Event.__table__)
_sessions = cast(Table, ExamSession.__table__)
_INSERT = rawsql.InsertIgnore(
    _events,
    ["session_id", "client_id", "type", "at", "score", "severity", "data", "received_at"],
    unique=["session_id", "client_id"],
    returning="client_id",
)
_SEEN = rawsql.Statement(
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_id"), or_(_sessions.c.state == "issued", _sessions.c.state == "x"))
    .values(last_heartbeat_at=bindparam("b_now"), last_seq=bindparam("b_seq"))
)


def _event(session_id: str, client_id: str, at: datetime) -> dict[str, object]:
    return {
        "session_id": session_id,
        "client_id": client_id,
        "type": "capture.screenshot",
        "at": at,
        "score": 0.5,
        "severity": None,
        "data": {"nested": [1, "two", None], "ø": "æ"},
        "received_at": at,
    }


@pytest.fixture
def session_id(installation) -> str:
    return make_exam(installation, n=1).session_ids[0]


def test_rows_read_back_as_the_orm_wrote_them(installation, session_id):
    at = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)
    c = installation.container
    with c.uow() as db:  # the same row once through SQLAlchemy, once raw
        db.execute(insert(_events).values(**_event(session_id, "orm-000001", at)))
        assert _INSERT.returned(db, [_event(session_id, "raw-000001", at)]) == ["raw-000001"]
    with c.uow() as db:
        rows = db.scalars(select(Event).where(Event.session_id == session_id).order_by(Event.client_id)).all()
        fields = ("type", "at", "score", "severity", "data", "received_at")
        orm, raw = ({k: getattr(e, k) for k in fields} for e in rows)
    assert raw == orm
    assert raw["at"] == at
    if c.engine.dialect.name == "sqlite":  # the stored text itself, not only what it reads back as
        with c.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT at, data FROM events ORDER BY client_id").all()
        assert stored[0] == stored[1]


def test_duplicates_are_skipped_and_a_batch_is_one_statement(installation, session_id):
    at = datetime.now(UTC)
    with installation.container.uow() as db:
        first = _INSERT.returned(db, [_event(session_id, f"ev-{i:06d}", at) for i in range(5)])
        again = _INSERT.returned(db, [_event(session_id, f"ev-{i:06d}", at) for i in range(3, 8)])
    assert sorted(first) == [f"ev-{i:06d}" for i in range(5)]
    assert sorted(again) == ["ev-000005", "ev-000006", "ev-000007"]


def test_a_rolled_back_session_keeps_nothing(installation, session_id):
    c = installation.container

    def failing_batch() -> None:
        with c.uow() as db:
            assert _SEEN.rowcount(db, {"b_id": session_id, "b_now": datetime.now(UTC), "b_seq": 7}) == 1
            raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        failing_batch()
    with c.uow() as db:
        assert db.get(ExamSession, session_id).last_seq == 0


def _lock_is_free(path: str) -> bool:
    """Whether another process could take the SQLite write lock (kit/sqlite_writes.py) now."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_raw_write_holds_sqlites_write_lock_until_commit(installation, session_id):
    c = installation.container
    lock_file = f"{c.engine.url.database}.writelock"
    with c.uow() as db:
        assert db.get(ExamSession, session_id) is not None  # a read takes no lock
        assert _lock_is_free(lock_file)
        _SEEN.rowcount(db, {"b_id": session_id, "b_now": datetime.now(UTC), "b_seq": 5})
        assert not _lock_is_free(lock_file)  # other writers wait in line, not in SQLite's busy handler
    assert _lock_is_free(lock_file)
    with c.uow() as db:
        assert db.get(ExamSession, session_id).last_seq == 5


def test_what_it_cannot_run_is_refused_when_first_used(installation, session_id):
    with installation.container.uow() as db:
        listed = _sessions.c.state.in_(["issued", "closed"])
        expanding = rawsql.Statement(select(_sessions.c.id).where(listed))
        with pytest.raises(TypeError, match="IN list"):
            expanding.rows(db, {})
        dated = rawsql.Statement(select(_sessions.c.code_expires_at).where(_sessions.c.id == bindparam("b")))
        if db.connection().dialect.name == "sqlite":  # text on SQLite, which SQLAlchemy turns into datetimes
            with pytest.raises(TypeError, match="result processing"):
                dated.rows(db, {"b": session_id})
        count = rawsql.Statement(select(func.count()).select_from(_sessions))
        assert count.first(db, {}) == (1,)


def test_a_large_batch_goes_in_few_bounded_statements(installation, session_id):
    assert rawsql._chunks(13) == [8, 5]
    assert all(sum(rawsql._chunks(n)) == n for n in range(1, 1200))
    assert max(len(rawsql._chunks(n)) for n in range(1, 501)) <= 10  # max_event_batch is 500
    at = datetime.now(UTC)
    with installation.container.uow() as db:
        returned = _INSERT.returned(db, [_event(session_id, f"big-{i:06d}", at) for i in range(300)])
    assert sorted(returned) == [f"big-{i:06d}" for i in range(300)]  # RETURNING's order is unspecified
