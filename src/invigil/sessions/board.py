"""The per-candidate status table (staff board, demo summary)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.assignments import repository as assignments
from invigil.kit.clock import iso
from invigil.sessions import repository


def rows(db: Session, exam_id: str, now: datetime) -> list[dict[str, Any]]:
    sessions = repository.board_rows(db, exam_id)
    periods: dict[str, list[tuple[datetime, datetime | None]]] = {}
    for p in repository.offline_periods(db, [s.id for s, _ in sessions]):
        periods.setdefault(p.session_id, []).append((p.started_at, p.ended_at))
    delivered = assignments.deliveries(db, exam_id)
    out = []
    for session, pseudonym in sessions:
        mine = periods.get(session.id, [])
        offline = sum(((end or now) - start).total_seconds() for start, end in mine)
        got = delivered.get(session.id)
        out.append(
            {
                "candidate": pseudonym,
                "session_id": session.id,
                "state": session.state,
                "items": session.items,
                "bytes": session.bytes,
                "activated_at": iso(session.activated_at),
                "last_heartbeat_at": iso(session.last_heartbeat_at),
                "handed_in_at": iso(session.handed_in_at),
                "closed_at": iso(session.closed_at),
                "offline_seconds": round(offline, 1),
                "offline_periods": [{"start": iso(s), "end": iso(e)} for s, e in mine],
                "assignment_received_at": iso(got.received_at) if got else None,
                "assignment_opened_at": iso(got.opened_at) if got else None,
            }
        )
    return out
