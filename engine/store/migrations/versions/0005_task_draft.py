"""human_task.draft: form entries saved without submitting

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("human_task", sa.Column("draft", JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("human_task", "draft")
