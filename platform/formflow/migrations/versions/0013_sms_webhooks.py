"""SMS sends (idempotency, per-number limits), webhook subscriptions and their deliveries.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONTYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sms_sends",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=True),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_sms_sends_key"),
    )
    op.create_index("ix_sms_sends_mobile", "sms_sends", ["mobile_hash", "at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("event_kinds", JSONTYPE, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_subscriptions_pack", "webhook_subscriptions", ["pack", "active"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("outbox_key", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_sub", "webhook_deliveries", ["subscription_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_sub", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_subscriptions_pack", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_sms_sends_mobile", table_name="sms_sends")
    op.drop_table("sms_sends")
