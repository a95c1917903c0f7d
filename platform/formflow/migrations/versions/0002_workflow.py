"""Workflow engine: correction state, branch arrivals, objections, notice counters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
APP_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("arrived", JSON, nullable=True))

    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", APP_ID, nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("missing", JSON, nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["answered_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index("ix_correction_app", ["application_id", "answered_on"], unique=False)

    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", APP_ID, nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.Integer(), nullable=True),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("upheld", sa.Boolean(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["raised_by"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["resolved_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index("ix_objection_app", ["application_id", "stage"], unique=False)

    op.create_table(
        "notice_counters",
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pack", "kind", "year"),
    )


def downgrade() -> None:
    op.drop_table("notice_counters")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index("ix_objection_app")
    op.drop_table("objections")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_correction_app")
    op.drop_table("corrections")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("arrived")
        batch_op.drop_column("awaiting")
