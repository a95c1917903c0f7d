"""The queue's order in its projection: each stage row carries its application's overdue flag and deadline.

Revision ID: 0012
Revises: 0011

`application_stages` gets `overdue` and `due` (the deadline, 9999-12-31 when
there is none, so that every database sorts it last) and an index in the
queue's order, so that a page reads its ~20 rows in index order.

A trigger on `applications` copies a changed `overdue` or `deadline` into the
application's stage rows, whoever writes them (the engine's moves and the
timers do, through `Move.finish`; so does any direct UPDATE): the projection
cannot drift from the row it projects. New stage rows get the values from the
engine (`workflow.moves.sync_stage_rows`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""CREATE FUNCTION application_stages_order() RETURNS trigger AS $$
            BEGIN
                UPDATE application_stages SET overdue = COALESCE(NEW.overdue, false),
                       due = COALESCE(NEW.deadline, DATE '9999-12-31')
                 WHERE application_id = NEW.id;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER application_stages_order AFTER UPDATE OF overdue, deadline ON applications
            FOR EACH ROW WHEN (OLD.overdue IS DISTINCT FROM NEW.overdue OR OLD.deadline IS DISTINCT FROM NEW.deadline)
            EXECUTE FUNCTION application_stages_order()""")
    else:
        op.execute("""CREATE TRIGGER application_stages_order AFTER UPDATE OF overdue, deadline ON applications
            FOR EACH ROW WHEN OLD.overdue IS NOT NEW.overdue OR OLD.deadline IS NOT NEW.deadline
            BEGIN
                UPDATE application_stages SET overdue = COALESCE(NEW.overdue, 0),
                       due = COALESCE(NEW.deadline, '9999-12-31')
                 WHERE application_id = NEW.id;
            END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS application_stages_order ON applications")
        op.execute("DROP FUNCTION IF EXISTS application_stages_order()")
    else:
        op.execute("DROP TRIGGER IF EXISTS application_stages_order")
    op.drop_index("ix_app_stage_order", table_name="application_stages")
    with op.batch_alter_table("application_stages") as batch:
        batch.drop_column("due")
        batch.drop_column("overdue")
