"""case_decision (the SLA report's decided cases); human_task index on completed_at

The cases completed before this migration count as decided when they completed, breached if an
escalation had fired; later cases are recorded by the step that decides them.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_decision",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("office_code", sa.String(length=32), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.create_index("ix_case_decision_decided", "case_decision", ["decided_at"], unique=False)
    op.create_index("ix_human_task_completed", "human_task", ["completed_at"], unique=False)
    _record_the_cases_completed()


def _record_the_cases_completed() -> None:
    connection = op.get_bind()
    instances = sa.table(
        "process_instance",
        sa.column("id"),
        sa.column("process_id"),
        sa.column("office_code"),
        sa.column("status"),
        sa.column("sla_breached"),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("completed_at", sa.DateTime(timezone=True)),
    )
    decisions = sa.table(
        "case_decision",
        sa.column("instance_id"),
        sa.column("process_id"),
        sa.column("office_code"),
        sa.column("decided_at"),
        sa.column("hours"),
        sa.column("breached"),
        sa.column("outcome"),
    )
    rows = connection.execute(
        sa.select(instances).where(instances.c.status == "completed", instances.c.completed_at.is_not(None))
    ).all()
    decided = [
        {
            "instance_id": row.id,
            "process_id": row.process_id,
            "office_code": row.office_code,
            "decided_at": row.completed_at,
            "hours": max(0.0, (row.completed_at - row.started_at).total_seconds() / 3600),
            "breached": bool(row.sla_breached),
            "outcome": None,
        }
        for row in rows
    ]
    if decided:
        connection.execute(decisions.insert(), decided)


def downgrade() -> None:
    op.drop_index("ix_human_task_completed", table_name="human_task")
    op.drop_index("ix_case_decision_decided", table_name="case_decision")
    op.drop_table("case_decision")
