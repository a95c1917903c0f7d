"""Messages: the citizen's and reviewer's message centre (My messages).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("application_id", BIGID, nullable=True),
        sa.Column("pack", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_messages_key"),
    )
    op.create_index("ix_messages_inbox", "messages", ["account_id", "read_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_inbox", table_name="messages")
    op.drop_table("messages")
