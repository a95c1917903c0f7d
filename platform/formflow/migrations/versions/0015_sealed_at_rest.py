"""Personal data at rest, second round: sealed idempotency responses (with expiry), household names and
facts, subsidy roster rows and free-text history notes.

Each plaintext column is replaced by a sealed one (AES-GCM through `formflow.personal.crypto`, the
application data's keys): a new column is added, every row is sealed into it in Python, the old column
dropped and the new one renamed. `events` is append-only: its triggers are dropped for the conversion
and recreated after it (on SQLite the table is also rebuilt by the batch operation, which loses triggers).
Stored idempotency responses are a cache: they are deleted rather than converted. Also
`stored_files.scan_status` ("held": an upload no virus scan has passed yet), the lottery seed sealed,
and the lottery's witness commitment (`witness_source`, `witness_sha256`, `committed_by`).

Revision ID: 0015
Revises: 0014
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: (table, column, was JSON) converted by this revision.
SEALED = (("households", "name", False), ("households", "facts", True), ("subsidy_rosters", "rows", True),
          ("events", "note", False), ("lottery_batches", "seed", False))
EVENTS_APPEND_ONLY = "history events are append-only"


def _drop_event_triggers(postgres: bool) -> None:
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS events_no_update ON events")
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
        op.execute("DROP TRIGGER IF EXISTS events_no_delete")


def _create_event_triggers(postgres: bool) -> None:
    """As 0001 made them (the function formflow_events_append_only() is kept on PostgreSQL)."""
    if postgres:
        op.execute("""CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION formflow_events_append_only()""")
        op.execute("""CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION formflow_events_append_only()""")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events
                BEGIN SELECT RAISE(ABORT, '{EVENTS_APPEND_ONLY}'); END""")


def _convert(table: str, column: str, was_json: bool, *, seal: bool) -> None:
    """Replace `column` by a sealed (seal=True) or plain column holding the same values."""
    from formflow.personal.crypto import active_keys

    bind = op.get_bind()
    temporary = f"{column}_new"
    plain_type = sa.JSON().with_variant(JSONB(), "postgresql") if was_json else sa.Text()
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column(temporary, sa.LargeBinary() if seal else plain_type, nullable=True))
    source = sa.table(table, sa.column("id"), sa.column(column, sa.LargeBinary() if not seal else plain_type),
                      sa.column(temporary, sa.LargeBinary() if seal else plain_type))
    for row_id, value in bind.execute(sa.select(source.c.id, source.c[column])).all():
        if value is None:
            continue
        keys = active_keys()  # only when there is something to convert (an empty database needs no keys)
        if seal:
            if was_json and isinstance(value, (str, bytes)):
                value = json.loads(value)
            new = keys.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
        else:
            new = json.loads(keys.open(bytes(value)))
        bind.execute(source.update().where(source.c.id == row_id).values({temporary: new}))
    with op.batch_alter_table(table) as batch:
        batch.drop_column(column)
    with op.batch_alter_table(table) as batch:
        batch.alter_column(temporary, new_column_name=column)


def _idempotency(seal: bool) -> None:
    op.execute("DELETE FROM api_idempotency_keys")  # a cache of responses: nothing to convert
    with op.batch_alter_table("api_idempotency_keys") as batch:
        batch.drop_column("response")
    with op.batch_alter_table("api_idempotency_keys") as batch:
        if seal:
            batch.add_column(sa.Column("response", sa.LargeBinary(), nullable=True))
            batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
            batch.create_index("ix_api_idempotency_expires", ["expires_at"])
        else:
            batch.drop_index("ix_api_idempotency_expires")
            batch.drop_column("expires_at")
            batch.add_column(sa.Column("response", sa.JSON().with_variant(JSONB(),
                                                                          "postgresql"), nullable=True))


def _run(seal: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    _idempotency(seal)
    for table, column, was_json in SEALED:
        if table == "events":
            _drop_event_triggers(postgres)
        _convert(table, column, was_json, seal=seal)
        if table == "events":
            _create_event_triggers(postgres)


def upgrade() -> None:
    _run(seal=True)
    with op.batch_alter_table("stored_files") as batch:  # uploads held while the virus scanner is down
        batch.add_column(sa.Column("scan_status", sa.String(length=16), nullable=True))
    with op.batch_alter_table("lottery_batches") as batch:  # the witness committed before the draw
        batch.add_column(sa.Column("witness_source", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("witness_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("committed_by", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_lottery_batches_committed_by", "accounts", ["committed_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("lottery_batches") as batch:
        batch.drop_constraint("fk_lottery_batches_committed_by", type_="foreignkey")
        batch.drop_column("committed_by")
        batch.drop_column("witness_sha256")
        batch.drop_column("witness_source")
    with op.batch_alter_table("stored_files") as batch:
        batch.drop_column("scan_status")
    _run(seal=False)
