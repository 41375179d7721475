"""compute-to-data jobs, for both roles (the provider runs them, the consumer mirrors them)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_jobs",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("agreement_id", sa.String(512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_compute_jobs"),
    )
    op.create_index("ix_compute_jobs_state_role_created", "compute_jobs", ["state", "role", "created_at"])
    op.create_index("ix_compute_jobs_agreement", "compute_jobs", ["agreement_id", "role"])


def downgrade() -> None:
    op.drop_index("ix_compute_jobs_agreement", table_name="compute_jobs")
    op.drop_index("ix_compute_jobs_state_role_created", table_name="compute_jobs")
    op.drop_table("compute_jobs")
