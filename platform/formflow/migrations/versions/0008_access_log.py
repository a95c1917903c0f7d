"""Access log: who viewed a full ID number or a household register, when, of which application.

Append-only like `events`: the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "access records are append-only"


def upgrade() -> None:
    op.create_table(
        "access_records",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("application_id", BIGID, nullable=False),
        sa.Column("what", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_records_app", "access_records", ["application_id", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION formflow_access_records_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER access_records_no_update BEFORE UPDATE OR DELETE ON access_records
            FOR EACH ROW EXECUTE FUNCTION formflow_access_records_append_only()""")
        op.execute("""CREATE TRIGGER access_records_no_truncate BEFORE TRUNCATE ON access_records
            FOR EACH STATEMENT EXECUTE FUNCTION formflow_access_records_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER access_records_no_{verb.lower()} BEFORE {verb} ON access_records
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_records_no_update ON access_records")
        op.execute("DROP TRIGGER IF EXISTS access_records_no_truncate ON access_records")
        op.execute("DROP FUNCTION IF EXISTS formflow_access_records_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_records_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_records_no_delete")
    op.drop_index("ix_access_records_app", table_name="access_records")
    op.drop_table("access_records")
