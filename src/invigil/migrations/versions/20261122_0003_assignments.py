"""PIN-sealed assignments: sets, their files, and per-candidate delivery

Revision ID: 0003_assignments
Revises: 0002
Create Date: 2026-11-22 16:48:11.092512
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import invigil.kit.db

revision = "0003_assignments"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_sets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exam_id", sa.String(length=32), nullable=False),
        sa.Column(
            "kdf",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("check", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["exam_id"], ["exams.id"], name=op.f("fk_assignment_sets_exam_id_exams")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["staff.id"], name=op.f("fk_assignment_sets_uploaded_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_sets")),
        sa.UniqueConstraint("exam_id", name=op.f("uq_assignment_sets_exam_id")),
    )
    op.create_table(
        "assignment_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("set_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("plain_size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"], ["assignment_sets.id"], name=op.f("fk_assignment_files_set_id_assignment_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_files")),
        sa.UniqueConstraint("set_id", "position", name=op.f("uq_assignment_files_set_id_position")),
    )
    with op.batch_alter_table("assignment_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_files_set_id"), ["set_id"], unique=False)

    op.create_table(
        "assignment_deliveries",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("exam_id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["exam_id"], ["exams.id"], name=op.f("fk_assignment_deliveries_exam_id_exams")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_sessions.id"],
            name=op.f("fk_assignment_deliveries_session_id_exam_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_assignment_deliveries")),
    )
    with op.batch_alter_table("assignment_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_deliveries_exam_id"), ["exam_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignment_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_deliveries_exam_id"))
    op.drop_table("assignment_deliveries")
    with op.batch_alter_table("assignment_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_files_set_id"))
    op.drop_table("assignment_files")
    op.drop_table("assignment_sets")
