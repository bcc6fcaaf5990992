"""Alembic environment: the models' metadata, and the connection handed in by engine/store/schema.py."""

from alembic import context

from engine.store import models  # noqa: F401  (registers the tables on Base.metadata)
from engine.store.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `flask --app wsgi db upgrade` (engine/store/schema.py)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
