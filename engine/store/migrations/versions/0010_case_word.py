"""case_word (the case list's search index); process_instance indexes on started_at and updated_at

The cases that exist get the words of their title and reference here; the words of their summary
join at their next step (engine.runtime.search_words).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WORD = sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "case_word",
        sa.Column("word", WORD, nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("word", "instance_id"),
    )
    op.create_index("ix_case_word_instance", "case_word", ["instance_id", "word"], unique=False)
    op.create_index("ix_instance_started_at", "process_instance", ["started_at"], unique=False)
    op.create_index("ix_instance_updated_at", "process_instance", ["updated_at"], unique=False)
    _index_the_cases_that_exist()


def _index_the_cases_that_exist() -> None:
    """The words of each case's title and reference, split as engine.runtime.search_words splits them."""
    import re
    import unicodedata

    connection = op.get_bind()
    instances = sa.table("process_instance", sa.column("id"), sa.column("title"), sa.column("reference"))
    words = sa.table("case_word", sa.column("word"), sa.column("instance_id"))
    for instance_id, title, reference in connection.execute(
        sa.select(instances.c.id, instances.c.title, instances.c.reference)
    ).all():
        text = unicodedata.normalize("NFKD", f"{title or ''} {reference or ''}".lower())
        text = "".join(c for c in text if not unicodedata.combining(c))
        found = {w[:40] for w in re.findall(r"[a-z0-9]+", text)}
        if found:
            connection.execute(words.insert(), [{"word": w, "instance_id": instance_id} for w in sorted(found)])


def downgrade() -> None:
    op.drop_index("ix_instance_updated_at", table_name="process_instance")
    op.drop_index("ix_instance_started_at", table_name="process_instance")
    op.drop_index("ix_case_word_instance", table_name="case_word")
    op.drop_table("case_word")
