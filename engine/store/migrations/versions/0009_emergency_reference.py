"""emergency, emergency_event, reference_counter; process_instance.reference and .emergency_id

The cases that exist get their references here, numbered in the order they were started.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("crisis_type", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("onset_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("declared_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["declared_by_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["office_code"], ["office.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_emergency_office_status", "emergency", ["office_code", "status"], unique=False)
    op.create_table(
        "emergency_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("emergency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=True),
        sa.Column("previous_level", sa.String(length=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergency.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_emergency_event_emergency_id"), "emergency_event", ["emergency_id"], unique=False)
    op.create_table(
        "reference_counter",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix"),
    )
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("emergency_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_process_instance_reference", ["reference"])
        batch_op.create_index(batch_op.f("ix_process_instance_emergency_id"), ["emergency_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_process_instance_emergency_id", "emergency", ["emergency_id"], ["id"], ondelete="SET NULL"
        )
    _number_the_cases_that_exist()


def _number_the_cases_that_exist() -> None:
    """KIND-OFFICE-YEAR-NNNN for every case already there, as engine.runtime.references gives them."""
    import re

    connection = op.get_bind()
    instances = sa.table(
        "process_instance",
        sa.column("id"),
        sa.column("process_id"),
        sa.column("office_code"),
        sa.column("started_at"),
        sa.column("reference"),
    )
    counters = sa.table("reference_counter", sa.column("prefix"), sa.column("last"))
    last: dict[str, int] = {}
    rows = connection.execute(
        sa.select(instances.c.id, instances.c.process_id, instances.c.office_code, instances.c.started_at).order_by(
            instances.c.started_at, instances.c.id
        )
    ).all()
    for instance_id, process_id, office_code, started_at in rows:
        kind = re.sub(r"[^A-Z0-9]", "", re.split(r"[^A-Za-z0-9]+", process_id)[0].upper())[:12] or "CASE"
        year = started_at.year if hasattr(started_at, "year") else int(str(started_at)[:4])
        prefix = f"{kind}-{office_code}-{year}"
        last[prefix] = last.get(prefix, 0) + 1
        connection.execute(
            instances.update().where(instances.c.id == instance_id).values(reference=f"{prefix}-{last[prefix]:04d}")
        )
    for prefix, number in last.items():
        connection.execute(counters.insert().values(prefix=prefix, last=number))


def downgrade() -> None:
    with op.batch_alter_table("process_instance", schema=None) as batch_op:
        batch_op.drop_constraint("fk_process_instance_emergency_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_process_instance_emergency_id"))
        batch_op.drop_constraint("uq_process_instance_reference", type_="unique")
        batch_op.drop_column("emergency_id")
        batch_op.drop_column("reference")
    op.drop_table("reference_counter")
    op.drop_index(op.f("ix_emergency_event_emergency_id"), table_name="emergency_event")
    op.drop_table("emergency_event")
    op.drop_index("ix_emergency_office_status", table_name="emergency")
    op.drop_table("emergency")
