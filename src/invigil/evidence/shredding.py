"""Crypto-shredding: when a data category's retention ends, its keys go first, then its ciphertext.

Deleting every sealed copy of a category's exam keys (all generations) makes its ciphertext
unreadable everywhere at once, including in backups and copies the institution no longer controls;
deleting the blobs afterwards is housekeeping. The two steps are separate transactions, so a crash
between them leaves nothing readable, and the next run finishes the deletion.

What is deliberately not covered: an offline recovery key file made *before* the shredding still
opens copies of the key grants in database backups made before it. That is why the recovery key is
rotated (``invigil keys rotate-recovery``) and old recovery files destroyed (docs/threat-model.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.container import Container
from invigil.evidence.models import EvidenceItem
from invigil.exams import facts, keys
from invigil.exams.models import Exam, ExamKey
from invigil.exams.retention import expires_at
from invigil.protocol.policy import CATEGORY_OF_KIND
from invigil.retention import holds
from invigil.storage import BlobStore

log = logging.getLogger("invigil.evidence")


@dataclass(frozen=True)
class Shredded:
    exam_id: str
    category: str
    keys: int
    copies: int
    items: int


def due(db: Session, now: datetime) -> list[tuple[str, str]]:
    """(exam, category) pairs whose retention has ended and that still have keys or ciphertext."""
    out = set()
    for exam, category in db.execute(
        select(Exam, ExamKey.category).join(ExamKey, ExamKey.exam_id == Exam.id).distinct()
    ).all():
        if category in _kinds_by_category() and expires_at(exam.ends_at, exam.retention, category) <= now:
            out.add((exam.id, category))
    return sorted((e, c) for e, c in out if live_keys(db, e, c) or items_left(db, e, c))


def _kinds_by_category() -> dict[str, list[str]]:
    by: dict[str, list[str]] = {}
    for kind, category in CATEGORY_OF_KIND.items():
        by.setdefault(category, []).append(kind)
    return by


def live_keys(db: Session, exam_id: str, category: str) -> list[ExamKey]:
    return list(
        db.scalars(
            select(ExamKey).where(
                ExamKey.exam_id == exam_id, ExamKey.category == category, ExamKey.shredded_at.is_(None)
            )
        )
    )


def items_left(db: Session, exam_id: str, category: str) -> list[EvidenceItem]:
    return list(
        db.scalars(
            select(EvidenceItem).where(
                EvidenceItem.exam_id == exam_id,
                EvidenceItem.kind.in_(_kinds_by_category()[category]),
                EvidenceItem.status.notin_(("shredded", "erased")),
            )
        )
    )


def shred(c: Container, exam_id: str, category: str, now: datetime) -> Shredded | None:
    """Destroy one expired category of one exam, as far as legal holds allow; None if nothing was due.

    A hold on the whole exam stops everything. A hold on some sessions keeps the category's keys (the
    held evidence must stay readable) and deletes the ciphertext of every other session; the keys go
    on a later run, once no hold is left (docs/adr/0014-retention-and-holds.md).
    """
    with c.uow() as db:
        held = holds.held(db, exam_id)
    if held.whole_exam:
        return None
    doomed: list[ExamKey] = []
    copies = 0
    if not held.any:
        with c.uow() as db:  # 1. the keys: from here on nothing anywhere opens this category
            doomed = live_keys(db, exam_id, category)
            if doomed:
                copies = keys.shred_keys(db, doomed, now)
                audit.record(
                    db,
                    actor_kind="system",
                    actor_id="retention",
                    action="retention.shred_keys",
                    at=now,
                    exam_id=exam_id,
                    category=category,
                    keys=[k.kid for k in doomed],
                    copies=copies,
                )
        facts.forget(exam_id)
    with c.uow() as db:  # 2. the ciphertext (of the sessions no hold covers)
        items = [i for i in items_left(db, exam_id, category) if not held.covers(i.session_id)]
        for item in items:
            delete_blobs(c.store, item)
            item.status, item.shredded_at = "shredded", now
        if items:
            audit.record(
                db,
                actor_kind="system",
                actor_id="retention",
                action="retention.delete_ciphertext",
                at=now,
                exam_id=exam_id,
                category=category,
                items=len(items),
                held_sessions=len(held.sessions),
            )
    if not doomed and not items:
        return None
    return Shredded(exam_id, category, len(doomed), copies, len(items))


def delete_blobs(store: BlobStore, item: EvidenceItem) -> None:
    store.delete(item.blob_key)
    for key in list(store.keys(f"partial/{item.session_id}/{item.id}/")):
        store.delete(key)


def delete_erased_blobs(store: BlobStore, items: Iterable[EvidenceItem]) -> None:
    """After an erasure has committed: delete the items' ciphertext now if the store lets us; a blob
    left behind (store down, disk full) is logged, and the next retention run deletes it (``run``)."""
    for item in items:
        try:
            delete_blobs(store, item)
        except OSError:
            log.exception("erased item %s: its blob could not be deleted yet", item.id)


def run(c: Container, now: datetime) -> list[Shredded]:
    with c.uow() as db:
        pairs = due(db, now)
        erased = list(db.scalars(select(EvidenceItem).where(EvidenceItem.status == "erased")))
    for item in erased:  # a reviewer's erasure whose blob deletion did not happen at the time
        if c.store.size(item.blob_key) is not None:
            delete_blobs(c.store, item)
    done = [shred(c, exam_id, category, now) for exam_id, category in pairs]
    return [d for d in done if d is not None]
