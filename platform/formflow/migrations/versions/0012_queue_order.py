"""The queue's order in its projection: each stage row carries its application's overdue flag and deadline.

Revision ID: 0012
Revises: 0009

`application_stages` gets `overdue` and `due` (the deadline, 9999-12-31 when
there is none, so that every database sorts it last) and an index in the
queue's order, so that a page reads its ~20 rows in index order.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application_stages") as batch:
        batch.add_column(sa.Column("overdue", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("due", sa.Date(), nullable=False, server_default="9999-12-31"))
    op.execute(
        "UPDATE application_stages SET "
        "overdue = COALESCE((SELECT applications.overdue FROM applications "
        "WHERE applications.id = application_stages.application_id), false), "
        "due = COALESCE((SELECT applications.deadline FROM applications "
        "WHERE applications.id = application_stages.application_id), '9999-12-31')"
    )
    op.create_index("ix_app_stage_order", "application_stages",
                    ["pack", "stage", sa.text("overdue DESC"), "due", "application_id", "office_path"])


def downgrade() -> None:
    op.drop_index("ix_app_stage_order", table_name="application_stages")
    with op.batch_alter_table("application_stages") as batch:
        batch.drop_column("due")
        batch.drop_column("overdue")
