"""The access log as a hash chain, with signed checkpoints: edits, deletions and reordering show.

Every entry gets a link ``hash = SHA-256(prev_hash || canonical entry)`` with a gap-free sequence
number. Links are made just before the entry's transaction commits (``link_pending``, hooked into
every session): the chain's head row is locked for those few milliseconds (PostgreSQL
``SELECT … FOR UPDATE``; SQLite's single writer already holds the lock), so links are strictly one
after another while the work before the commit stays concurrent. If the transaction rolls back, its
entries and links vanish together.

Periodically (``checkpoint``) the head's sequence number and hash are signed with the installation's
signing key and stored, and appended to ``<data dir>/audit/checkpoints.jsonl``. Someone who edits an
entry must rewrite every later link to hide it; the checkpoints (and any copy kept off the server)
then no longer match. ``verify`` walks the whole chain and says where it breaks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from invigil.audit.models import AccessLogEntry, AuditCheckpoint, AuditHead, AuditLink
from invigil.kit import signing
from invigil.kit.clock import iso

GENESIS = "0" * 64
PENDING = "invigil.audit.pending"
CHECKPOINT_FILE = Path("audit") / "checkpoints.jsonl"


def canonical(entry: AccessLogEntry) -> bytes:
    """The entry's content as hashed: every field but the row id (the link's seq orders entries)."""
    doc = {
        "at": iso(entry.at),
        "actor_kind": entry.actor_kind,
        "actor_id": entry.actor_id,
        "action": entry.action,
        "exam_id": entry.exam_id,
        "session_id": entry.session_id,
        "item_id": entry.item_id,
        "detail": entry.detail or {},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link_hash(prev_hash: str, entry: AccessLogEntry) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(entry)).hexdigest()


def as_stored(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as the database gives it back (JSON types only), so that its hash can be recomputed."""
    result: dict[str, Any] = json.loads(json.dumps(detail, default=str))
    return result


def remember(db: Session, entry: AccessLogEntry) -> None:
    """Called by audit.record: this entry is linked when its transaction commits."""
    db.info.setdefault(PENDING, []).append(entry)


def _head(db: Session) -> AuditHead:
    stmt = select(AuditHead).where(AuditHead.id == 1)
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    head = db.scalars(stmt).one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.add(head)
    return head


def link_pending(db: Session) -> None:
    entries: list[AccessLogEntry] = db.info.pop(PENDING, [])
    if not entries:
        return
    db.flush()  # entries get their ids
    head = _head(db)
    for entry in sorted(entries, key=lambda e: e.id):
        new = link_hash(head.hash, entry)
        db.add(AuditLink(seq=head.seq + 1, entry_id=entry.id, prev_hash=head.hash, hash=new))
        head.seq, head.hash = head.seq + 1, new
    db.flush()


@event.listens_for(Session, "before_commit")
def _before_commit(db: Session) -> None:
    link_pending(db)


@event.listens_for(Session, "after_rollback")
def _after_rollback(db: Session) -> None:
    db.info.pop(PENDING, None)


# -- checkpoints ------------------------------------------------------------------------------


def checkpoint_body(seq: int, hash_: str, at: datetime) -> dict[str, Any]:
    return {"what": "invigil audit checkpoint", "seq": seq, "hash": hash_, "at": iso(at)}


def checkpoint(
    db: Session, key: ed25519.Ed25519PrivateKey, data_dir: Path, now: datetime
) -> AuditCheckpoint | None:
    """Sign the chain's current head, unless it has not moved since the last checkpoint."""
    head = db.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    last = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1)).first()
    if last is not None and last.seq >= head.seq:
        return None
    body = checkpoint_body(head.seq, head.hash, now)
    row = AuditCheckpoint(
        seq=head.seq,
        hash=head.hash,
        at=now,
        public_key=signing.public_b64(key),
        signature=signing.sign(key, body),
    )
    db.add(row)
    db.flush()
    path = data_dir / CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({**body, "public_key": row.public_key, "signature": row.signature}) + "\n")
    return row


# -- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    where: str  # "seq 12 (entry 40)", "checkpoint at seq 30", ...
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass(frozen=True)
class Report:
    entries: int
    links: int
    checkpoints: int
    findings: tuple[Finding, ...]

    @property
    def intact(self) -> bool:
        return not self.findings


def _links(db: Session) -> Iterator[tuple[AuditLink, AccessLogEntry | None]]:
    rows = db.execute(
        select(AuditLink, AccessLogEntry)
        .outerjoin(AccessLogEntry, AccessLogEntry.id == AuditLink.entry_id)
        .order_by(AuditLink.seq)
        .execution_options(yield_per=1000)
    )
    return ((link, entry) for link, entry in rows)


def verify(db: Session, data_dir: Path | None = None, trusted_keys: tuple[str, ...] = ()) -> Report:
    """Walk the chain from the start; every place where it does not hold is a finding."""
    findings: list[Finding] = []
    hashes: dict[int, str] = {}
    prev_seq, prev_hash, n_links = 0, GENESIS, 0
    linked: set[int] = set()
    for link, entry in _links(db):
        n_links += 1
        where = f"seq {link.seq} (entry {link.entry_id})"
        if link.seq != prev_seq + 1:
            findings.append(
                Finding(where, f"links {prev_seq + 1}–{link.seq - 1} are missing: entries were deleted")
            )
        if link.prev_hash != prev_hash:
            findings.append(
                Finding(where, "does not follow the entry before it: entries were reordered or removed")
            )
        if entry is None:
            findings.append(Finding(where, "the entry was deleted from the access log"))
        elif link_hash(link.prev_hash, entry) != link.hash:
            findings.append(Finding(where, f"the entry was edited after it was written ({entry.action})"))
        if entry is not None:
            linked.add(entry.id)
        hashes[link.seq] = link.hash
        prev_seq, prev_hash = link.seq, link.hash
    head = db.get(AuditHead, 1)
    if head is not None and (head.seq, head.hash) != (prev_seq, prev_hash):
        findings.append(
            Finding(f"seq {prev_seq}", f"the chain ends before its recorded head (seq {head.seq})")
        )
    entries = list(db.scalars(select(AccessLogEntry.id).order_by(AccessLogEntry.id)))
    for entry_id in entries:
        if entry_id not in linked:
            findings.append(
                Finding(f"entry {entry_id}", "is not in the chain: it was added behind the log's back")
            )
    checkpoints = list(db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    stored = [(c.seq, c.hash, iso(c.at) or "", c.public_key, c.signature) for c in checkpoints]
    findings += _check_checkpoints(stored, hashes, trusted_keys, "checkpoint")
    if data_dir is not None and (data_dir / CHECKPOINT_FILE).is_file():
        lines = (data_dir / CHECKPOINT_FILE).read_text(encoding="utf-8").splitlines()
        outside = []
        for i, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
                outside.append((int(doc["seq"]), doc["hash"], doc["at"], doc["public_key"], doc["signature"]))
            except (ValueError, KeyError, TypeError):
                findings.append(Finding(f"{CHECKPOINT_FILE} line {i}", "is not a checkpoint (damaged file)"))
        findings += _check_checkpoints(outside, hashes, trusted_keys, f"{CHECKPOINT_FILE} checkpoint")
    return Report(len(entries), n_links, len(checkpoints), tuple(findings))


def _check_checkpoints(
    rows: list[tuple[int, str, str, str, str]], hashes: dict[int, str], trusted: tuple[str, ...], label: str
) -> list[Finding]:
    out = []
    for seq, hash_, at, public_key, signature in rows:
        where = f"{label} at seq {seq}"
        body = {"what": "invigil audit checkpoint", "seq": seq, "hash": hash_, "at": at}
        if not signing.verify(public_key, body, signature):
            out.append(Finding(where, "its signature does not verify: the checkpoint was altered"))
        elif trusted and public_key not in trusted:
            out.append(Finding(where, "is signed by a key this installation does not use"))
        if seq not in hashes:
            out.append(Finding(where, "names a link that no longer exists: the chain was cut short"))
        elif hashes[seq] != hash_:
            out.append(Finding(where, "does not match the chain: entries up to here were rewritten"))
    return out
