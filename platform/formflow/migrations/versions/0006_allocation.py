"""Allocation after approval: households (one file per household) and their append-only history,
lottery batches, subsidy rosters, follow-up check campaigns and checks.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
PATH = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "household history events are append-only"


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("matter", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=True),
        sa.Column("office_path", PATH, nullable=True),
        sa.Column("mode", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_masked", sa.String(length=40), nullable=False),
        sa.Column("facts", JSON, nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("queued_on", sa.Date(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("declines", sa.Integer(), nullable=False),
        sa.Column("flat", JSON, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["applicant_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_index("ix_household_list", "households", ["pack", "matter", "kind", "status"])
    op.create_index("ix_household_applicant", "households", ["applicant_id"])
    op.create_table(
        "household_events",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_household_events", "household_events", ["household_id", "id"])
    op.create_table(
        "lottery_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("matter", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flats", JSON, nullable=False),
        sa.Column("entrants", JSON, nullable=False),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=True),
        sa.Column("seed_sha256", sa.String(length=64), nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("witness", sa.String(length=200), nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "subsidy_rosters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("matter", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("rows", JSON, nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pack", "matter", "period"),
    )
    op.create_table(
        "check_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("matter", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("modes", JSON, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "household_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["check_campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_index("ix_household_checks", "household_checks", ["household_id", "id"])
    _forbid_history_changes()


def _forbid_history_changes() -> None:
    """The household history, like the application history, is append-only in the database."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION formflow_household_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER household_events_no_update BEFORE UPDATE OR DELETE ON household_events
            FOR EACH ROW EXECUTE FUNCTION formflow_household_events_append_only()""")
        op.execute("""CREATE TRIGGER household_events_no_truncate BEFORE TRUNCATE ON household_events
            FOR EACH STATEMENT EXECUTE FUNCTION formflow_household_events_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER household_events_no_{verb.lower()} BEFORE {verb} ON household_events
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS household_events_no_update ON household_events")
        op.execute("DROP TRIGGER IF EXISTS household_events_no_truncate ON household_events")
        op.execute("DROP FUNCTION IF EXISTS formflow_household_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS household_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS household_events_no_delete")
    op.drop_index("ix_household_checks", table_name="household_checks")
    op.drop_table("household_checks")
    op.drop_table("check_campaigns")
    op.drop_table("subsidy_rosters")
    op.drop_table("lottery_batches")
    op.drop_index("ix_household_events", table_name="household_events")
    op.drop_table("household_events")
    op.drop_index("ix_household_applicant", table_name="households")
    op.drop_index("ix_household_list", table_name="households")
    op.drop_table("households")
