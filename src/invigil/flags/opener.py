"""The worker's way into sealed evidence: its own staff key, unlocked once, and the exam keys sealed
to it (ADR 0009). Every opening is logged; the plaintext lives in memory only."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy.orm import Session

from invigil.accounts.models import Staff, StaffKey
from invigil.audit import service as audit
from invigil.config import Settings
from invigil.evidence.models import EvidenceItem
from invigil.exams import keys as exam_keys
from invigil.kit import envelope
from invigil.kit.clock import utcnow
from invigil.kit.errors import Forbidden
from invigil.kit.keywrap import unwrap_staff_key
from invigil.storage import BlobStore


class EvidenceOpener:
    def __init__(self, staff_id: str, private_key: x25519.X25519PrivateKey, store: BlobStore) -> None:
        self.staff_id, self._key, self._store = staff_id, private_key, store
        self._exam_keys: dict[str, dict[str, x25519.X25519PrivateKey]] = {}

    def open(self, db: Session, item: EvidenceItem, now: datetime | None = None) -> bytes:
        keys = self._exam_keys.get(item.exam_id)
        if keys is None or item.exam_kid not in keys:
            # Keys rotate (revocations): fetch again when the item names a key not seen yet.
            keys = self._exam_keys[item.exam_id] = exam_keys.open_exam_keys(db, item.exam_id, self._key)
        if item.exam_kid is None or item.exam_kid not in keys:
            raise Forbidden(f"The analysis account holds no copy of key {item.exam_kid} of this exam.")
        ctx = envelope.Context(item.exam_id, item.session_id, item.client_id, item.kind)
        plaintext = envelope.open_bytes(self._store.get(item.blob_key), keys[item.exam_kid], ctx)
        audit.record(
            db,
            actor_kind="worker",
            actor_id=self.staff_id,
            action="evidence.analyse",
            at=now or utcnow(),
            exam_id=item.exam_id,
            session_id=item.session_id,
            item_id=item.id,
            kind=item.kind,
        )
        return plaintext


def opener_from_settings(db: Session, settings: Settings, store: BlobStore) -> EvidenceOpener | None:
    """The configured analysis account's opener, or None when none is configured (the worker then
    runs the event-based detectors only and says so)."""
    if not settings.analysis_staff_id or settings.analysis_passphrase_file is None:
        return None
    staff = db.get(Staff, settings.analysis_staff_id)
    row = db.get(StaffKey, settings.analysis_staff_id)
    if staff is None or row is None or not staff.is_active:
        raise RuntimeError(
            f"INVIGIL_ANALYSIS_STAFF_ID={settings.analysis_staff_id} is not an active staff account with "
            "a key pair: create it (role reviewer) and set its key with `invigil staff key`"
        )
    passphrase = settings.analysis_passphrase_file.read_text(encoding="utf-8").strip()
    private_key = unwrap_staff_key(row.wrapped, passphrase, staff.id, row.kid)
    return EvidenceOpener(staff.id, private_key, store)
