"""Institutions and their recovery public key."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.exams.retention import parse_retention
from invigil.institutions.models import Institution
from invigil.kit.errors import Conflict, Invalid

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create(
    db: Session,
    *,
    slug: str,
    name: str,
    region: str,
    recovery_kid: str,
    recovery_public_key: str,
    dpo_contact: str = "",
) -> Institution:
    if not _SLUG.match(slug):
        raise Invalid("The short name must be 2-63 lower-case letters, digits or dashes.")
    if db.scalar(select(Institution).where(Institution.slug == slug)):
        raise Conflict(f"An institution called '{slug}' already exists.")
    institution = Institution(
        slug=slug,
        name=name,
        region=region,
        recovery_kid=recovery_kid,
        recovery_public_key=recovery_public_key,
        dpo_contact=dpo_contact,
        default_retention=parse_retention({}).model_dump(),
    )
    db.add(institution)
    db.flush()
    return institution


def by_slug(db: Session, slug: str) -> Institution | None:
    return db.scalar(select(Institution).where(Institution.slug == slug))


def only(db: Session) -> Institution | None:
    """The single institution of a typical installation (None if there are zero or several)."""
    rows = db.scalars(select(Institution).limit(2)).all()
    return rows[0] if len(rows) == 1 else None
