"""Record every read of candidate data and every change that matters (who, what, when). There is
deliberately no function to change or delete; each entry is hash-chained when its transaction
commits (audit/chain.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.audit import chain
from invigil.audit.models import AccessLogEntry


def record(
    db: Session,
    *,
    actor_kind: str,
    actor_id: str,
    action: str,
    at: datetime,
    exam_id: str | None = None,
    session_id: str | None = None,
    item_id: str | None = None,
    **detail: Any,
) -> None:
    entry = AccessLogEntry(
        at=at,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
        exam_id=exam_id,
        session_id=session_id,
        item_id=item_id,
        detail=chain.as_stored(detail),
    )
    db.add(entry)
    chain.remember(db, entry)
