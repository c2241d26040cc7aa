"""Every query of the evidence domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from invigil.evidence.models import EvidenceItem


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
