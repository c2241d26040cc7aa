"""The agent's most frequent requests in single Core statements, for the common case only.

A heartbeat of a running session (or the first after activation) and the session lookup of an event
batch are more than 80 % of all agent requests. Through the ORM each costs a full ``ExamSession``
load (and for heartbeats a flush); here they are one indexed statement, run on the cursor of the
session's connection (kit/rawsql.py: SQLAlchemy's execute layer cost more than the statement).
Everything else — an offline session coming back, a replayed ``seq``, a dead or unknown token —
returns None, and the caller takes the full path in ``service``, which decides and words the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from invigil.kit import rawsql, tokens
from invigil.protocol import v1
from invigil.sessions import service, tokencache
from invigil.sessions.models import ExamSession
from invigil.sessions.states import LIVE, State

_sessions = cast(Table, ExamSession.__table__)


@dataclass(frozen=True)
class SessionRef:
    """What an event batch needs to know about its live session."""

    id: str
    exam_id: str
    state: str
    candidate_kid: str | None


_c = _sessions.c
# Built once: constructing and cache-keying a statement costs more than running it on SQLite.
_next = (
    update(_sessions)
    .where(
        _c.token_hash == bindparam("b_token_hash"),
        _c.offline_since.is_(None),
        _c.last_seq < bindparam("b_seq"),
    )
    .values(last_seq=bindparam("b_seq"), last_heartbeat_at=bindparam("b_now"))
    .returning(_c.exam_id, _c.state)
)
# A running session's heartbeat leaves ``state`` alone: SQLite rewrites the entries of every index on
# a column the UPDATE sets, even to the same value. The first heartbeat after activation sets it.
_HEARTBEAT = rawsql.Statement(_next.where(_c.state == State.RUNNING.value))
_FIRST_HEARTBEAT = rawsql.Statement(
    _next.where(_c.state == State.ACTIVATED.value).values(state=State.RUNNING.value)
)
_LOOKUP = rawsql.Statement(
    select(_c.id, _c.exam_id, _c.state, _c.candidate_kid).where(_c.token_hash == bindparam("b_token_hash"))
)


def heartbeat(db: Session, token: str | None, hb: v1.Heartbeat, now: datetime) -> v1.HeartbeatAck | None:
    """The next heartbeat of a running (or just activated) session that is not offline: ``seq`` and
    the time change and the session is running, exactly what ``service.heartbeat`` does in those
    states. None: take the full path."""
    if not token:
        return None
    params = {"b_token_hash": tokens.token_hash(token), "b_seq": hb.seq, "b_now": now}
    row = _HEARTBEAT.first(db, params) or _FIRST_HEARTBEAT.first(db, params)
    if row is None:
        return None
    exam_id, state = row
    return service.heartbeat_ack(db, exam_id, state, now)


def live_session(db: Session, token: str | None) -> SessionRef | None:
    """The live session of this token, or None (the full path then says why not)."""
    if not token:
        return None
    return _live(db, tokens.token_hash(token))


def _live(db: Session, token_hash: str) -> SessionRef | None:
    row = _LOOKUP.first(db, {"b_token_hash": token_hash})
    if row is None:
        return None
    ref = SessionRef(*row)
    return ref if State(ref.state) in LIVE else None


def identity(db: Session, token_hash: str) -> tokencache.Identity | None:
    """Who holds this token, if its session is live: from the cache, else one query (then cached).
    Says nothing about whether the session is *still* live; the caller's write checks that."""
    known = tokencache.get(token_hash)
    if known is not None:
        return known
    ref = _live(db, token_hash)
    if ref is None:
        return None
    known = tokencache.Identity(ref.id, ref.exam_id, ref.candidate_kid)
    tokencache.put(token_hash, known)
    return known
