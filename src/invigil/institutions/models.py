from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime
from invigil.kit.ids import new_id


class Institution(Base):
    __tablename__ = "institutions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(64))
    dpo_contact: Mapped[str] = mapped_column(String(200), default="")
    recovery_kid: Mapped[str] = mapped_column(String(64))
    recovery_public_key: Mapped[str] = mapped_column(Text)
    default_retention: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # For the privacy notice and the DPIA (privacy/): controller, legal_basis, complaint_authority.
    privacy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
