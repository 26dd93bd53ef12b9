"""Alembic environment: runs on a connection handed over by ``agentbatch.store.migrate``."""

from alembic import context
from sqlalchemy.engine import Connection

from agentbatch.store.tables import metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through agentbatch.store.migrate, which provides the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
