"""Flags: detections from the agent and the worker, flags (episodes), flag rules

Revision ID: 0004_flags
Revises: 0003_assignments
Create Date: 2026-11-22 17:23:33.126283
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import invigil.kit.db

revision = "0004_flags"
down_revision = "0003_assignments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flag_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("institution_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column(
            "rules",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["institutions.id"], name=op.f("fk_flag_rules_institution_id_institutions")
        ),
        sa.ForeignKeyConstraint(["updated_by"], ["staff.id"], name=op.f("fk_flag_rules_updated_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_rules")),
        sa.UniqueConstraint("institution_id", "scope", name=op.f("uq_flag_rules_institution_id_scope")),
    )
    with op.batch_alter_table("flag_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_rules_institution_id"), ["institution_id"], unique=False)

    op.create_table(
        "detections",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("exam_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("fingerprint", sa.String(length=96), nullable=False),
        sa.Column("behaviour", sa.String(length=48), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("start", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["exam_id"], ["exams.id"], name=op.f("fk_detections_exam_id_exams")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_detections_session_id_exam_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detections")),
        sa.UniqueConstraint(
            "session_id", "source", "fingerprint", name=op.f("uq_detections_session_id_source_fingerprint")
        ),
    )
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detections_exam_id"), ["exam_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_detections_session_id"), ["session_id"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("exam_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("behaviour", sa.String(length=48), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("start", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("peak_score", sa.Float(), nullable=False),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", invigil.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["exam_id"], ["exams.id"], name=op.f("fk_flags_exam_id_exams")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_sessions.id"], name=op.f("fk_flags_session_id_exam_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flags_exam_id"), ["exam_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_flags_session_id"), ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flags_session_id"))
        batch_op.drop_index(batch_op.f("ix_flags_exam_id"))

    op.drop_table("flags")
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detections_session_id"))
        batch_op.drop_index(batch_op.f("ix_detections_exam_id"))

    op.drop_table("detections")
    with op.batch_alter_table("flag_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_rules_institution_id"))

    op.drop_table("flag_rules")
