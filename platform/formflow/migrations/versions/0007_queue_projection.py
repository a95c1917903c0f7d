"""Queue projection (one row per current stage) and indexes on application foreign keys.

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FK_INDEXES = ("household_members", "stage_clocks", "review_markings", "notices")


def upgrade() -> None:
    op.create_table(
        "application_stages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(),
                  sa.ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("office_path", sa.String(length=400).with_variant(sa.String(length=400, collation="C"),
                                                                    "postgresql"), nullable=True),
        sa.UniqueConstraint("application_id", "stage"),
    )
    op.create_index("ix_app_stage_queue", "application_stages", ["stage", "office_path"])
    op.create_index("ix_application_stages_application_id", "application_stages", ["application_id"])
    for table in FK_INDEXES:
        op.create_index(f"ix_{table}_application_id", table, ["application_id"])
    _backfill()


def _backfill() -> None:
    """Active applications already at stages get their projection rows."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, pack, office_path, stages FROM applications WHERE status = 'active'")).fetchall()
    stages_table = sa.table("application_stages", sa.column("application_id"), sa.column("stage"),
                            sa.column("pack"), sa.column("office_path"))
    values = []
    for app_id, pack, office_path, stages in rows:
        listed = json.loads(stages) if isinstance(stages, str) else (stages or [])
        values += [{"application_id": app_id, "stage": s, "pack": pack, "office_path": office_path}
                   for s in dict.fromkeys(listed)]
    if values:
        op.bulk_insert(stages_table, values)


def downgrade() -> None:
    for table in FK_INDEXES:
        op.drop_index(f"ix_{table}_application_id", table_name=table)
    op.drop_index("ix_application_stages_application_id", table_name="application_stages")
    op.drop_index("ix_app_stage_queue", table_name="application_stages")
    op.drop_table("application_stages")
