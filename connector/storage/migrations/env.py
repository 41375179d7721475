"""Alembic environment: run on the connection handed over by Database.open (online only)."""

from alembic import context

import connector.auth.sql  # noqa: F401  (each feature's sql module registers its tables)
import connector.catalog.sql  # noqa: F401
import connector.compute.sql  # noqa: F401
import connector.credentials.sql  # noqa: F401
import connector.negotiation.sql  # noqa: F401
import connector.transfer.sql  # noqa: F401
from connector.storage.metadata import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
