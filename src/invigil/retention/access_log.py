"""The access log's own retention: pruning it to a signed checkpoint (ADR 0022).

The access log is one hash chain for the whole installation (audit/chain.py), so it can only be
shortened from its start. A prune takes the newest signed checkpoint as the chain's new start and
deletes every entry before it whose retention has ended:

- an exam's entries: ``access_and_audit_logs`` days after the exam ended (the exam's own period),
  unless a legal hold is in force on that exam;
- entries of no exam (logins, staff changes): that many days after they were written, by the
  longest default period among the installation's institutions;
- never: the retention entries (``retention.*``), which the deletion certificates are built from,
  and earlier prunes' own entries.

Entries that must stay keep their links; each is still checked against its link, and the digest of
those links is in the signed prune record, so deleting or editing one shows. The database refuses to
delete an entry or a link unless a prune record covers its place (migration 0016).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from invigil.audit import chain
from invigil.audit import service as audit
from invigil.audit.models import AccessLogEntry, AuditCheckpoint, AuditLink, AuditPrune
from invigil.exams.models import Exam
from invigil.exams.retention import expires_at, parse_retention
from invigil.institutions.models import Institution
from invigil.kit import signing
from invigil.retention import holds

CATEGORY = "access_and_audit_logs"
ALWAYS_KEPT = ("retention.", "audit.prune")
BATCH = 500


@dataclass(frozen=True)
class Pruned:
    up_to_seq: int
    deleted: int
    kept: int


class _Expiry:
    """Whether an entry's retention has ended, with the exams and holds looked up once each."""

    def __init__(self, db: Session, now: datetime) -> None:
        self.db, self.now = db, now
        defaults = [
            parse_retention(d).model_dump()[CATEGORY]
            for d in db.scalars(select(Institution.default_retention))
        ]
        self.no_exam_days = max(defaults, default=parse_retention(None).model_dump()[CATEGORY])
        self._exams: dict[str, bool] = {}

    def _exam_over(self, exam_id: str) -> bool:
        if exam_id not in self._exams:
            exam = self.db.get(Exam, exam_id)
            self._exams[exam_id] = (
                exam is not None
                and expires_at(exam.ends_at, exam.retention, CATEGORY) <= self.now
                and not holds.held(self.db, exam_id).any
            )
        return self._exams[exam_id]

    def over(self, entry: AccessLogEntry) -> bool:
        if entry.action.startswith(ALWAYS_KEPT):
            return False
        if entry.exam_id is not None:
            return self._exam_over(entry.exam_id)
        return entry.at + timedelta(days=self.no_exam_days) <= self.now


def prune(db: Session, key: ed25519.Ed25519PrivateKey, now: datetime) -> Pruned | None:
    """Prune up to the newest checkpoint, if that deletes anything; the caller commits."""
    point = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()
    before = chain.last_prune(db)
    if point is None or (before is not None and before.up_to_seq >= point.seq):
        return None
    expiry = _Expiry(db, now)
    doomed: list[tuple[int, int]] = []  # (entry id, seq)
    kept: list[tuple[int, str]] = []  # (seq, link hash)
    rows = db.execute(
        select(AuditLink, AccessLogEntry)
        .join(AccessLogEntry, AccessLogEntry.id == AuditLink.entry_id)
        .where(AuditLink.seq <= point.seq)
        .order_by(AuditLink.seq)
        .execution_options(yield_per=1000)
    )
    for link, entry in rows:
        if expiry.over(entry):
            doomed.append((entry.id, link.seq))
        else:
            kept.append((link.seq, link.hash))
    if not doomed:
        return None
    record = AuditPrune(
        up_to_seq=point.seq,
        up_to_hash=point.hash,
        at=now,
        deleted=len(doomed),
        kept=len(kept),
        kept_digest=chain.kept_digest(kept),
        public_key=signing.public_b64(key),
        signature="",
    )
    record.signature = signing.sign(key, chain.prune_body(record))
    db.add(record)
    db.flush()  # the database allows the deletions below only once this record exists
    for i in range(0, len(doomed), BATCH):
        ids = [entry_id for entry_id, _ in doomed[i : i + BATCH]]
        db.execute(delete(AccessLogEntry).where(AccessLogEntry.id.in_(ids)))  # entries first: the
        db.execute(delete(AuditLink).where(AuditLink.entry_id.in_(ids)))  # trigger looks at links
    audit.record(
        db,
        actor_kind="system",
        actor_id="retention",
        action="audit.prune",
        at=now,
        up_to_seq=point.seq,
        deleted=len(doomed),
        kept=len(kept),
    )
    return Pruned(point.seq, len(doomed), len(kept))
