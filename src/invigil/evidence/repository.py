"""Every query of the evidence domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from invigil.evidence.models import EvidenceItem
from invigil.kit import rawsql
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


# Built once, run on the driver's cursor (kit/rawsql.py): every upload runs two of them.
_count = (
    update(_sessions)
    .where(_sessions.c.id == bindparam("b_session_id"))
    .values(items=_sessions.c["items"] + 1, bytes=_sessions.c["bytes"] + bindparam("b_size"))
)
_COUNT = rawsql.Statement(_count)
_COUNT_IF_LIVE = rawsql.Statement(_count.where(or_(*(_sessions.c.state == s.value for s in sorted(LIVE)))))
_DROP = delete(_items).where(_items.c.id == bindparam("b_id"))
STORED_COLUMNS = (
    "id",
    "session_id",
    "exam_id",
    "client_id",
    "kind",
    "status",
    "size",
    "received",
    "sha256",
    "exam_kid",
    "blob_key",
    "captured_at",
    "received_at",
    "stored_at",
)
_ADD_STORED = rawsql.InsertIgnore(_items, STORED_COLUMNS, unique=["session_id", "client_id"], returning="id")


def count_stored(db: Session, session_id: str, size: int, only_if_live: bool = False) -> bool:
    """Add a newly stored item to its session's totals. ``only_if_live``: and only if the session
    still is live (False: it was not counted, and nothing changed)."""
    stmt = _COUNT_IF_LIVE if only_if_live else _COUNT
    return stmt.rowcount(db, {"b_session_id": session_id, "b_size": size}) == 1


def add_stored(db: Session, row: dict[str, Any]) -> bool:
    """Insert an item that is complete and checked, as stored, in one statement (hotpath.py), with
    ``STORED_COLUMNS``. False: this session already has an item with this client id, and nothing
    changed."""
    return bool(_ADD_STORED.returned(db, [row]))


def drop(db: Session, item_row_id: str) -> None:
    db.connection().execute(_DROP, {"b_id": item_row_id})
