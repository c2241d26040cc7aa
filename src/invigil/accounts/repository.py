"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff


def by_email(db: Session, institution_id: str, email: str) -> Staff | None:
    return db.scalar(
        select(Staff).where(Staff.institution_id == institution_id, Staff.email == email.strip().lower())
    )


def of_institution(db: Session, institution_id: str) -> Sequence[Staff]:
    return db.scalars(
        select(Staff)
        .where(Staff.institution_id == institution_id)
        .order_by(Staff.is_active.desc(), Staff.email)
    ).all()
