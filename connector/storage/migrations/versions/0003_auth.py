"""used JWT ids of self-issued ID tokens (replay protection of DSP/DCP authentication)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_used_jtis",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_auth_used_jtis"),
    )
    op.create_index("ix_auth_used_jtis_expires_at", "auth_used_jtis", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_used_jtis_expires_at", table_name="auth_used_jtis")
    op.drop_table("auth_used_jtis")
