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

When the log's retention ends, entries are pruned up to a signed checkpoint (retention/access_log.py,
ADR 0022): the checkpoint becomes the chain's start, recorded in a signed prune record, and the
entries that had to stay are each checked against their own link and, together, against the digest
in that record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from invigil.audit.models import AccessLogEntry, AuditCheckpoint, AuditHead, AuditLink, AuditPrune
from invigil.kit import signing
from invigil.kit.clock import iso

GENESIS = "0" * 64
PENDING = "invigil.audit.pending"
CHECKPOINT_FILE = Path("audit") / "checkpoints.jsonl"
EDITED = "the entry was edited after it was written ({})"


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


def checkpoint_due(db: Session, now: datetime, every: timedelta) -> bool:
    """Whether the periodic checkpoint is due: the newest one is ``every`` old, or there is none
    and the oldest entry is. Measured from the database, so restarting the server neither adds a
    checkpoint nor puts the next one off."""
    last = db.scalar(select(func.max(AuditCheckpoint.at)))
    if last is None:
        last = db.scalar(select(func.min(AccessLogEntry.at)))
    return last is not None and now - last >= every


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


# -- prunes (the policy of what goes is retention/access_log.py) -----------------------------------


def prune_body(p: AuditPrune) -> dict[str, Any]:
    return {
        "what": "invigil audit prune",
        "up_to_seq": p.up_to_seq,
        "up_to_hash": p.up_to_hash,
        "at": iso(p.at),
        "deleted": p.deleted,
        "kept": p.kept,
        "kept_digest": p.kept_digest,
    }


def kept_digest(links: Iterable[tuple[int, str]]) -> str:
    """The digest of the (seq, hash) links kept before a prune point."""
    h = hashlib.sha256()
    for seq, hash_ in sorted(links):
        h.update(f"{seq}:{hash_}\n".encode())
    return h.hexdigest()


def last_prune(db: Session) -> AuditPrune | None:
    return db.scalars(select(AuditPrune).order_by(AuditPrune.up_to_seq.desc()).limit(1)).first()


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
    pruned_to: int = 0  # the chain starts after this seq (0: never pruned)

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
    prune = last_prune(db)
    pruned_to, prev_hash = (prune.up_to_seq, prune.up_to_hash) if prune else (0, GENESIS)
    prev_seq, n_links = pruned_to, 0
    if prune is not None:
        hashes[pruned_to] = prev_hash
    linked: set[int] = set()
    kept: list[tuple[int, str]] = []
    for link, entry in _links(db):
        n_links += 1
        where = f"seq {link.seq} (entry {link.entry_id})"
        if link.seq <= pruned_to:  # kept at a prune: checked on its own, and all of them by digest
            if entry is None:
                findings.append(Finding(where, "the entry was deleted from the access log"))
            else:  # linked, edited or not, as in the chain below: one finding per edit
                linked.add(entry.id)
                if link_hash(link.prev_hash, entry) != link.hash:
                    findings.append(Finding(where, EDITED.format(entry.action)))
            kept.append((link.seq, link.hash))
            continue
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
            findings.append(Finding(where, EDITED.format(entry.action)))
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
    if prune is not None:
        findings += _check_prunes(db, prune, kept, trusted_keys)
    checkpoints = list(db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)))
    stored = [(c.seq, c.hash, iso(c.at) or "", c.public_key, c.signature) for c in checkpoints]
    findings += _check_checkpoints(stored, hashes, trusted_keys, "checkpoint", pruned_to)
    if data_dir is not None and (data_dir / CHECKPOINT_FILE).is_file():
        lines = (data_dir / CHECKPOINT_FILE).read_text(encoding="utf-8").splitlines()
        outside = []
        for i, line in enumerate(lines, 1):
            try:
                doc = json.loads(line)
                outside.append((int(doc["seq"]), doc["hash"], doc["at"], doc["public_key"], doc["signature"]))
            except (ValueError, KeyError, TypeError):
                findings.append(Finding(f"{CHECKPOINT_FILE} line {i}", "is not a checkpoint (damaged file)"))
        findings += _check_checkpoints(
            outside, hashes, trusted_keys, f"{CHECKPOINT_FILE} checkpoint", pruned_to
        )
    return Report(len(entries), n_links, len(checkpoints), tuple(findings), pruned_to)


def _check_prunes(
    db: Session, latest: AuditPrune, kept: list[tuple[int, str]], trusted: tuple[str, ...]
) -> list[Finding]:
    out = []
    for p in db.scalars(select(AuditPrune).order_by(AuditPrune.up_to_seq)):
        where = f"prune up to seq {p.up_to_seq}"
        if not signing.verify(p.public_key, prune_body(p), p.signature):
            out.append(Finding(where, "its signature does not verify: the prune record was altered"))
        elif trusted and p.public_key not in trusted:
            out.append(Finding(where, "is signed by a key this installation does not use"))
    if (len(kept), kept_digest(kept)) != (latest.kept, latest.kept_digest):
        out.append(
            Finding(
                f"prune up to seq {latest.up_to_seq}",
                f"{latest.kept} entries were kept before this point and {len(kept)} are there now, or "
                "their links changed: entries kept at the prune were deleted or rewritten",
            )
        )
    return out


def _check_checkpoints(
    rows: list[tuple[int, str, str, str, str]],
    hashes: dict[int, str],
    trusted: tuple[str, ...],
    label: str,
    pruned_to: int = 0,
) -> list[Finding]:
    out = []
    for seq, hash_, at, public_key, signature in rows:
        where = f"{label} at seq {seq}"
        body = {"what": "invigil audit checkpoint", "seq": seq, "hash": hash_, "at": at}
        if not signing.verify(public_key, body, signature):
            out.append(Finding(where, "its signature does not verify: the checkpoint was altered"))
        elif trusted and public_key not in trusted:
            out.append(Finding(where, "is signed by a key this installation does not use"))
        if seq < pruned_to:
            continue  # before the prune point: its link was pruned, its signature still counts
        if seq not in hashes:
            out.append(Finding(where, "names a link that no longer exists: the chain was cut short"))
        elif hashes[seq] != hash_:
            out.append(Finding(where, "does not match the chain: entries up to here were rewritten"))
    return out
