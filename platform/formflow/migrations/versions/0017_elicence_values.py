"""E-licence provenance: which licence put which value into an application, and when.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "elicence_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", BIGID, nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_by", sa.Integer(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fetched_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "field", name="uq_elicence_values_app_field"),
    )
    op.create_index("ix_elicence_values_application_id", "elicence_values", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_elicence_values_application_id", table_name="elicence_values")
    op.drop_table("elicence_values")
