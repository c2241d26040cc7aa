"""Audit chain: hash links for every access-log entry, the chain's head, signed checkpoints

Revision ID: 0006_audit_chain
Revises: 0005_web_login
Create Date: 2026-11-22 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import invigil.kit.db

revision = "0006_audit_chain"
down_revision = "0005_web_login"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("audit_chain", "audit_checkpoints")


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("seq", BIG, nullable=False, autoincrement=False),
        sa.Column("entry_id", BIG, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_audit_chain_entry_id")),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seq", BIG, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", BIG, nullable=False, autoincrement=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_checkpoints")),
    )
    _link_existing_entries()
    for table in APPEND_ONLY:
        _append_only(table)


def _link_existing_entries() -> None:
    """An installation that already has access-log entries gets them chained, oldest first."""
    from sqlalchemy.orm import Session

    from invigil.audit import chain
    from invigil.audit.models import AccessLogEntry

    db = Session(bind=op.get_bind())
    entries = list(db.scalars(sa.select(AccessLogEntry).order_by(AccessLogEntry.id)))
    prev = chain.GENESIS
    for seq, entry in enumerate(entries, 1):
        new = chain.link_hash(prev, entry)
        op.execute(
            sa.text(
                "INSERT INTO audit_chain (seq, entry_id, prev_hash, hash) VALUES (:s, :e, :p, :h)"
            ).bindparams(s=seq, e=entry.id, p=prev, h=new)
        )
        prev = new
    op.execute(
        sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :s, :h)").bindparams(
            s=len(entries), h=prev
        )
    )


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION invigil_{table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION 'the table {table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION invigil_{table}_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the table {table} is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS invigil_{table}_append_only()")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_chain")
