"""Institutions and their recovery public key."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.config import Settings
from invigil.exams.retention import parse_retention
from invigil.institutions.models import Institution
from invigil.kit.errors import Conflict, Invalid

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def check_region(settings: Settings, region: str) -> None:
    """An institution is pinned to a region: this installation's database must be there, and (with
    region pinning) a blob store for it must be configured."""
    if settings.database_region and region != settings.database_region:
        raise Invalid(
            f"This installation's database is in {settings.database_region!r}; an institution pinned to "
            f"{region!r} needs an installation whose database is there."
        )
    if settings.region_stores and region not in settings.region_stores:
        raise Invalid(f"No blob store for region {region!r}: add it to INVIGIL_REGION_STORES first.")


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


def update_settings(
    db: Session,
    institution: Institution,
    *,
    name: str,
    default_retention: dict[str, Any],
    by: str,
    now: datetime,
) -> Institution:
    """The institution's name and its default retention per data category (new exams start with
    these; each exam may set its own)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise Invalid("The institution needs a name of 1 to 200 characters.")
    retention = parse_retention(default_retention).model_dump()
    institution.name, institution.default_retention = name, retention
    audit.record(
        db,
        actor_kind="staff",
        actor_id=by,
        action="institution.settings",
        at=now,
        name=name,
        default_retention=retention,
    )
    return institution


def update_privacy(
    db: Session, institution: Institution, values: dict[str, str], *, by: str, now: datetime
) -> None:
    """What every exam's privacy notice and DPIA say about the controller (checked by the caller's
    schema: privacy/endpoints.PrivacySettings)."""
    values = dict(values)
    institution.dpo_contact = values.pop("dpo_contact", "")
    institution.privacy = values
    audit.record(
        db,
        actor_kind="staff",
        actor_id=by,
        action="institution.privacy",
        at=now,
        dpo_contact=institution.dpo_contact,
        **values,
    )
