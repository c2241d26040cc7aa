"""Every query of the assignments domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from invigil.assignments.models import AssignmentDelivery, AssignmentFile, AssignmentSet


def set_for_exam(db: Session, exam_id: str) -> AssignmentSet | None:
    return db.scalar(select(AssignmentSet).where(AssignmentSet.exam_id == exam_id))


def files(db: Session, set_id: str) -> Sequence[AssignmentFile]:
    return db.scalars(
        select(AssignmentFile).where(AssignmentFile.set_id == set_id).order_by(AssignmentFile.position)
    ).all()


def file_at(db: Session, set_id: str, position: int) -> AssignmentFile | None:
    return db.scalar(
        select(AssignmentFile).where(AssignmentFile.set_id == set_id, AssignmentFile.position == position)
    )


def delete_files(db: Session, set_id: str) -> None:
    db.execute(delete(AssignmentFile).where(AssignmentFile.set_id == set_id))


def delivery(db: Session, session_id: str) -> AssignmentDelivery | None:
    return db.get(AssignmentDelivery, session_id)


def deliveries(db: Session, exam_id: str) -> dict[str, AssignmentDelivery]:
    rows = db.scalars(select(AssignmentDelivery).where(AssignmentDelivery.exam_id == exam_id)).all()
    return {d.session_id: d for d in rows}


def forget_deliveries(db: Session, exam_id: str) -> None:
    """A replaced assignment: what candidates received before no longer counts."""
    db.execute(delete(AssignmentDelivery).where(AssignmentDelivery.exam_id == exam_id))
