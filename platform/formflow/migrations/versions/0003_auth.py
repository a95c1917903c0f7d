"""Sign-in: failed attempts (rate limits) and SMS codes.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_key", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])
    op.create_table(
        "sms_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mobile_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_sms_codes_mobile", "sms_codes", ["mobile_hash", "id"])


def downgrade() -> None:
    op.drop_index("ix_sms_codes_mobile", table_name="sms_codes")
    op.drop_table("sms_codes")
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_table("login_failures")
