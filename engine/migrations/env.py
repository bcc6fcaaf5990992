"""Alembic environment: the models' metadata, and the connection handed in by engine/schema.py."""

from alembic import context

from engine import models, outbox  # noqa: F401  (register their tables on Base.metadata)
from engine.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `flask --app wsgi db upgrade` (engine/schema.py)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
