"""Every query of the evidence domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from invigil.evidence.models import EvidenceItem
from invigil.kit.db import insert_ignore
from invigil.sessions.models import ExamSession
from invigil.sessions.states import LIVE

_items = cast(Table, EvidenceItem.__table__)
_sessions = cast(Table, ExamSession.__table__)


def by_client_id(db: Session, session_id: str, client_id: str) -> EvidenceItem | None:
    return db.scalar(
        select(EvidenceItem).where(EvidenceItem.session_id == session_id, EvidenceItem.client_id == client_id)
    )


def get(db: Session, item_id: str) -> EvidenceItem | None:
    return db.get(EvidenceItem, item_id)


def stored_for_session(db: Session, session_id: str) -> Sequence[EvidenceItem]:
    return db.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.session_id == session_id, EvidenceItem.status == "stored")
        .order_by(EvidenceItem.captured_at)
    ).all()


def stored_for_exam(db: Session, exam_id: str) -> Sequence[EvidenceItem]:
    return db.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.exam_id == exam_id, EvidenceItem.status == "stored")
        .order_by(EvidenceItem.session_id, EvidenceItem.captured_at)
    ).all()


def mark_stored(db: Session, item: EvidenceItem, **values: object) -> bool:
    """Flip partial -> stored exactly once, even if two requests finish the same item."""
    result = db.execute(
        update(EvidenceItem)
        .where(EvidenceItem.id == item.id, EvidenceItem.status == "partial")
        .values(status="stored", **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# Built once: constructing and cache-keying a statement costs more than running it on SQLite.
_COUNT = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_session_id"))
    .values(items=_sessions.c["items"] + 1, bytes=_sessions.c["bytes"] + bindparam("b_size"))
)
_COUNT_IF_LIVE = _COUNT.where(_sessions.c.state.in_(sorted(s.value for s in LIVE)))
_DROP = delete(_items).where(_items.c.id == bindparam("b_id"))


def count_stored(db: Session, session_id: str, size: int, only_if_live: bool = False) -> bool:
    """Add a newly stored item to its session's totals. ``only_if_live``: and only if the session
    still is live (False: it was not counted, and nothing changed)."""
    stmt = _COUNT_IF_LIVE if only_if_live else _COUNT
    result = db.connection().execute(stmt, {"b_session_id": session_id, "b_size": size})
    return bool(result.rowcount == 1)


def add_stored(db: Session, row: dict[str, Any]) -> bool:
    """Insert an item that is complete and checked, as stored, in one statement (hotpath.py).
    False: this session already has an item with this client id, and nothing changed."""
    stmt = insert_ignore(db, _items, ["session_id", "client_id"], returning=("id",))
    return db.connection().execute(stmt, row).first() is not None  # rowcount is not reliable for INSERT


def drop(db: Session, item_row_id: str) -> None:
    db.connection().execute(_DROP, {"b_id": item_row_id})
