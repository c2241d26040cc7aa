"""access log pruning to a signed checkpoint (ADR 0022)

Revision ID: 0016_audit_prune
Revises: 0011_notice
Create Date: 2026-11-22 22:55:00

The access log and its hash chain stay append-only in the database itself, with one exception: a
row may be deleted when a prune record (append-only too, and signed) covers its place in the chain.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import invigil.kit.db

revision = "0016_audit_prune"
down_revision = "0011_notice"
branch_labels = None
depends_on = None

# An entry may go if its link lies at or before the last prune point; a link likewise. (Constants.)
ENTRY_COVERED = (
    "EXISTS (SELECT 1 FROM audit_chain l WHERE l.entry_id = OLD.id "
    "AND l.seq <= (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_prunes))"
)
LINK_COVERED = "OLD.seq <= (SELECT COALESCE(MAX(up_to_seq), 0) FROM audit_prunes)"


def upgrade() -> None:
    op.create_table(
        "audit_prunes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("up_to_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("up_to_hash", sa.String(length=64), nullable=False),
        sa.Column("at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("kept_digest", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_prunes")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(
            "CREATE FUNCTION invigil_audit_prunes_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the table audit_prunes is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE ON audit_prunes "
            "FOR EACH ROW EXECUTE FUNCTION invigil_audit_prunes_append_only()"
        )
        _pg_function("access_log", "the access log is append-only", ENTRY_COVERED)
        _pg_function("audit_chain", "the table audit_chain is append-only", LINK_COVERED)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_prunes_no_{verb.lower()} BEFORE {verb} ON audit_prunes "
                "BEGIN SELECT RAISE(ABORT, 'the table audit_prunes is append-only'); END"
            )
        _sqlite_delete_trigger("access_log", "the access log is append-only", ENTRY_COVERED)
        _sqlite_delete_trigger("audit_chain", "the table audit_chain is append-only", LINK_COVERED)


def _pg_function(table: str, message: str, covered: str | None) -> None:
    allow = f"IF TG_OP = 'DELETE' AND {covered} THEN RETURN OLD; END IF; " if covered else ""
    op.execute(
        f"CREATE OR REPLACE FUNCTION invigil_{table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {allow}RAISE EXCEPTION '{message}'; END $$"
    )


def _sqlite_delete_trigger(table: str, message: str, covered: str | None) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    when = f"WHEN NOT {covered} " if covered else ""
    op.execute(
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} {when}"
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_function("access_log", "the access log is append-only", None)
        _pg_function("audit_chain", "the table audit_chain is append-only", None)
        op.execute("DROP TRIGGER IF EXISTS audit_prunes_append_only ON audit_prunes")
        op.execute("DROP FUNCTION IF EXISTS invigil_audit_prunes_append_only()")
    else:
        _sqlite_delete_trigger("access_log", "the access log is append-only", None)
        _sqlite_delete_trigger("audit_chain", "the table audit_chain is append-only", None)
    op.drop_table("audit_prunes")
