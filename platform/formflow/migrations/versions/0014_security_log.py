"""Web sessions known to the server, and the append-only security log.

`security_log` is append-only like `events` and `access_records`: the database refuses
UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = "the security log is append-only"


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("password_failures", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sid_hash", name="uq_web_sessions_sid"),
    )
    op.create_index("ix_web_sessions_account", "web_sessions", ["account_id", "ended_at"])
    op.create_table(
        "security_log",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_security_log_at", "security_log", ["at"])
    op.create_index("ix_security_log_kind_subject", "security_log", ["kind", "subject", "at"])
    op.create_index("ix_security_log_kind_address", "security_log", ["kind", "address", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION formflow_security_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER security_log_no_update BEFORE UPDATE OR DELETE ON security_log
            FOR EACH ROW EXECUTE FUNCTION formflow_security_log_append_only()""")
        op.execute("""CREATE TRIGGER security_log_no_truncate BEFORE TRUNCATE ON security_log
            FOR EACH STATEMENT EXECUTE FUNCTION formflow_security_log_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER security_log_no_{verb.lower()} BEFORE {verb} ON security_log
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS security_log_no_update ON security_log")
        op.execute("DROP TRIGGER IF EXISTS security_log_no_truncate ON security_log")
        op.execute("DROP FUNCTION IF EXISTS formflow_security_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS security_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS security_log_no_delete")
    for name in ("ix_security_log_kind_address", "ix_security_log_kind_subject", "ix_security_log_at"):
        op.drop_index(name, table_name="security_log")
    op.drop_table("security_log")
    op.drop_index("ix_web_sessions_account", table_name="web_sessions")
    op.drop_table("web_sessions")
