"""Heartbeats and event batches that share a group commit also share their statements.

Group commit (kit/groupcommit.py) runs the heartbeats and event batches that arrive together in one
transaction, but each still ran statements of its own: on PostgreSQL every statement is a round
trip, and for a heartbeat that round trip was most of what it cost the server (docs/benchmarks.md,
ADR 0025). Here the units of one batch run together (``GroupCommit.run_batched``):

* heartbeats: one ``UPDATE … FROM jsonb_to_recordset(…)`` for all of them, with the conditions
  that ``hotpath.heartbeat`` applies to each (a running session, not offline, a newer ``seq``);
* event batches: one ``SELECT`` finds all their sessions, one ``INSERT … SELECT … FROM
  jsonb_to_recordset(…)`` stores all their events, duplicates skipped by the unique key as before.

Whatever a shared statement does not settle — a session that is not running, a replayed ``seq``, a
token twice in one batch, an event batch the checks refuse, an unknown token — then runs alone, in
the same transaction, exactly as a unit of its own did before (``heartbeat_alone``,
``events_alone``), which decides and words the answer. On SQLite every unit runs alone: there its
statements cost microseconds in the process.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    Table,
    Text,
    any_,
    bindparam,
    column,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import cast as sql_cast
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from invigil.kit import rawsql, tokens
from invigil.kit.clock import as_utc
from invigil.kit.errors import Invalid
from invigil.protocol import v1
from invigil.sessions import hotpath, service
from invigil.sessions.models import Event, ExamSession
from invigil.sessions.states import LIVE, State

_sessions = cast(Table, ExamSession.__table__)
_events = cast(Table, Event.__table__)
_s = _sessions.c


def _records(name: str, columns: dict[str, TypeEngine[Any]]) -> TableValuedAlias:
    """Rows passed as one JSON parameter (``_rows_json``) and read back as a table, ``v``. One string
    to send: psycopg dumps lists for ``unnest`` element by element in Python, which cost more of the
    server's CPU than the statements saved (py-spy, 8,000 candidates)."""
    rows = func.jsonb_to_recordset(sql_cast(bindparam(name, type_=Text()), JSONB()))
    return rows.table_valued(*(column(n, t) for n, t in columns.items())).render_derived("v", with_types=True)


def _rows_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=_iso)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    raise TypeError(f"{type(value).__name__} cannot be sent as JSON")


_TIME = DateTime(timezone=True)
_ANY_HASH = any_(bindparam("b_hashes", type_=ARRAY(String())))  # found by the unique index
_beats = _records("b_rows", {"token_hash": String(), "seq": BigInteger(), "at": _TIME})
# hotpath._HEARTBEAT for many sessions at once: the same conditions, the same columns set. The plan
# must find the sessions by their token hashes, whatever the statistics say: the hashes also come
# as a list (``= ANY``, the unique index), and the state is compared through coalesce() so that
# its index cannot compete. As an exam starts, thousands of sessions turn "running" faster than
# statistics follow; a planner that believed few were running scanned them all and joined each
# against the heartbeats (8 ms for 16 heartbeats with 2,000 sessions, EXPLAIN ANALYZE), and a
# join it believed large (the JSON's rows are guessed at 100) chose to scan the whole table.
_HEARTBEATS = rawsql.Statement(
    update(_sessions)
    .values(last_seq=_beats.c.seq, last_heartbeat_at=_beats.c.at)
    .where(
        _s.token_hash == _ANY_HASH,
        _s.token_hash == _beats.c.token_hash,
        _s.offline_since.is_(None),
        _s.last_seq < _beats.c.seq,
        func.coalesce(_s.state, "") == State.RUNNING.value,
    )
    .returning(_s.token_hash, _s.exam_id, _s.state)
)
_SESSIONS = rawsql.Statement(select(_s.token_hash, _s.id, _s.state).where(_s.token_hash == _ANY_HASH))
_EVENT_COLUMNS = ("session_id", "client_id", "type", "at", "score", "severity", "data", "received_at")
_EVENT_TYPES: dict[str, TypeEngine[Any]] = {"at": _TIME, "received_at": _TIME, "data": JSONB()}
_new_events = _records("b_rows", {n: _EVENT_TYPES.get(n, _events.c[n].type) for n in _EVENT_COLUMNS})
# service._INSERT_EVENTS for the events of many batches at once.
_INSERT_EVENTS = rawsql.Statement(
    pg_insert(_events)
    .from_select(list(_EVENT_COLUMNS), select(*(_new_events.c[name] for name in _EVENT_COLUMNS)))
    .on_conflict_do_nothing(index_elements=["session_id", "client_id"])
    .returning(_events.c.session_id)
)


@dataclass(frozen=True)
class Heartbeat:
    token: str | None
    body: v1.Heartbeat
    now: datetime


@dataclass(frozen=True)
class EventBatch:
    token: str | None
    body: v1.EventBatch
    now: datetime
    max_batch: int


def heartbeat_alone(db: Session, item: Heartbeat) -> v1.HeartbeatAck:
    ack = hotpath.heartbeat(db, item.token, item.body, item.now)
    if ack is not None:
        return ack
    session = service.authenticate(db, item.token)
    return service.heartbeat(db, session, item.body, item.now)


def events_alone(db: Session, item: EventBatch) -> tuple[v1.EventBatchAck, str]:
    """The answer, and the id of the batch's session."""
    session = hotpath.live_session(db, item.token) or service.authenticate(db, item.token)
    return service.record_events(db, session, item.body, item.now, item.max_batch), session.id


def _shared(db: Session, items: Sequence[object]) -> bool:
    return len(items) > 1 and db.connection().dialect.name == "postgresql"


def _hashes(tokens_: Sequence[str | None]) -> tuple[list[str | None], dict[str, int]]:
    """Each token's hash, and the position of the first item with each hash."""
    hashes = [tokens.token_hash(t) if t else None for t in tokens_]
    first: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h is not None:
            first.setdefault(h, i)
    return hashes, first


class Heartbeats:
    def run_many(self, db: Session, items: Sequence[Heartbeat]) -> list[v1.HeartbeatAck]:
        if not _shared(db, items):
            return [heartbeat_alone(db, item) for item in items]
        hashes, first = _hashes([item.token for item in items])
        shared = list(first.values())
        beats = [{"token_hash": hashes[i], "seq": items[i].body.seq, "at": items[i].now} for i in shared]
        params = {"b_rows": _rows_json(beats), "b_hashes": list(first)}
        done = {row[0]: (row[1], row[2]) for row in _HEARTBEATS.rows(db, params)}
        answers = []
        for i, item in enumerate(items):
            h = hashes[i]
            hit = done.get(h) if h is not None and first[h] == i else None
            if hit is None:
                answers.append(heartbeat_alone(db, item))
            else:
                answers.append(service.heartbeat_ack(db, hit[0], hit[1], item.now))
        return answers


class EventBatches:
    def run_many(self, db: Session, items: Sequence[EventBatch]) -> list[tuple[v1.EventBatchAck, str]]:
        if not _shared(db, items):
            return [events_alone(db, item) for item in items]
        hashes, first = _hashes([item.token for item in items])
        live = {
            h: session_id
            for h, session_id, state in _SESSIONS.rows(db, {"b_hashes": list(first)})
            if State(state) in LIVE
        }
        rows: list[dict[str, Any]] = []
        owners: dict[int, str] = {}  # position -> its session, one item per session
        for i, item in enumerate(items):
            h = hashes[i]
            if h is None or first[h] != i or h not in live:
                continue
            try:
                rows += service.event_rows(live[h], item.body, item.now, item.max_batch)
            except Invalid:
                continue  # alone, it says so
            owners[i] = live[h]
        stored: Counter[str] = Counter()
        if rows:
            stored = Counter(row[0] for row in _INSERT_EVENTS.rows(db, {"b_rows": _rows_json(rows)}))
        answers: list[tuple[v1.EventBatchAck, str]] = []
        for i, item in enumerate(items):
            session_id = owners.get(i)
            if session_id is None:
                answers.append(events_alone(db, item))
                continue
            accepted = stored[session_id]
            ack = v1.EventBatchAck(accepted=accepted, duplicates=len(item.body.events) - accepted)
            answers.append((ack, session_id))
        return answers


HEARTBEATS = Heartbeats()
EVENT_BATCHES = EventBatches()
