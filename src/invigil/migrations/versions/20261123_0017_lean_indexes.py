"""drop the session_id indexes that the unique (session_id, client_id) keys already provide

Revision ID: 0017_lean_indexes
Revises: 0016_audit_prune
Create Date: 2026-11-23 05:10:00

Every event and every evidence item wrote its session id into two B-trees: its own index and the
unique key that starts with it. Lookups by session use the unique key's prefix just as well (also
PostgreSQL's foreign-key checks), so each insert now writes one index fewer (docs/benchmarks.md).
"""

from __future__ import annotations

from alembic import op

revision = "0017_lean_indexes"
down_revision = "0016_audit_prune"
branch_labels = None
depends_on = None

TABLES = ("events", "evidence_items")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_session_id"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_session_id"), ["session_id"], unique=False)
