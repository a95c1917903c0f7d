"""Configuration imports: each bundle published into this environment (who, when, its hash, what changed).

Revision ID: 0019
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

JSONTYPE = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "config_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("packs", JSONTYPE, nullable=False),
        sa.Column("summary", JSONTYPE, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_config_imports_at", "config_imports", ["at"])


def downgrade() -> None:
    op.drop_index("ix_config_imports_at", table_name="config_imports")
    op.drop_table("config_imports")
