from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from invigil.kit.clock import utcnow
from invigil.kit.db import Base, JSONType, UTCDateTime


class AccessLogEntry(Base):
    """Append-only: no code path updates or deletes rows (PostgreSQL enforces it with a trigger)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | recovery-key | system
    actor_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    exam_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    item_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AuditLink(Base):
    """One access-log entry's place in the hash chain: ``hash = H(prev_hash || entry)``. Written in the
    same transaction as the entry (audit/chain.py); append-only like the log itself."""

    __tablename__ = "audit_chain"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's end (one row): writers lock it just before commit, so links are made one at a time."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement "the chain had this hash at this length, at this time" (periodic). A copy
    goes to a file outside the database, so that a rewritten chain no longer matches it."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class AuditPrune(Base):
    """A signed record of one pruning of the access log (audit/pruning.py, ADR 0022): every entry up
    to the signed checkpoint at ``up_to_seq`` whose retention had ended was deleted; the entries
    that had to stay (``kept``, digest of their links) stay, each still checkable against its link.
    The database lets an entry or a link be deleted only if a prune record covers its place."""

    __tablename__ = "audit_prunes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    up_to_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    up_to_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer)
    kept_digest: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
