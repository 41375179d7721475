"""the catalog: datasets with their distributions, access level and offers

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_datasets",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("iri", sa.String(2048), nullable=False),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_catalog_datasets_access_id", "catalog_datasets", ["access", "id"])
    op.create_index("uq_catalog_datasets_iri", "catalog_datasets", ["iri"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_catalog_datasets_iri", table_name="catalog_datasets")
    op.drop_index("ix_catalog_datasets_access_id", table_name="catalog_datasets")
    op.drop_table("catalog_datasets")
