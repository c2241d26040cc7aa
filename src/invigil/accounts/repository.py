"""Every query of the accounts domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff


def by_email(db: Session, institution_id: str, email: str) -> Staff | None:
    return db.scalar(
        select(Staff).where(Staff.institution_id == institution_id, Staff.email == email.strip().lower())
    )
