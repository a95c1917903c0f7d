"""A lottery batch drawn among the applications at a workflow stage (`kind: lottery`).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # None: a batch of waiting households (allocation.yaml); a stage id: a batch of the applications at it
    op.add_column("lottery_batches", sa.Column("stage", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lottery_batches") as batch:
        batch.drop_column("stage")
