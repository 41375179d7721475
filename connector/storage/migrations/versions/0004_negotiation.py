"""contract negotiations (DSP 2025-1) and their outbox of messages to send

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "negotiations",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("consumer_pid", sa.String(512), nullable=True),
        sa.Column("provider_pid", sa.String(512), nullable=True),
        sa.Column("counterparty_pid", sa.String(512), nullable=True),
        sa.Column("counterparty_did", sa.String(512), nullable=False),
        sa.Column("counterparty_address", sa.Text(), nullable=True),
        sa.Column("dataset_id", sa.String(512), nullable=True),
        sa.Column("offer", sa.Text(), nullable=False),
        sa.Column("agreement", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_message", sa.String(64), nullable=True),
        sa.Column("last_sender", sa.String(16), nullable=True),
        sa.Column("last_digest", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_negotiations"),
        sa.UniqueConstraint(
            "role", "counterparty_did", "counterparty_pid", name="uq_negotiations_counterparty"
        ),
    )
    op.create_index(
        "ix_negotiations_state_role_created", "negotiations", ["state", "role", "created_at"]
    )
    op.create_table(
        "negotiation_outbox",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("negotiation_id", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_negotiation_outbox"),
        sa.ForeignKeyConstraint(
            ["negotiation_id"],
            ["negotiations.id"],
            name="fk_negotiation_outbox_negotiation",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_negotiation_outbox_due", "negotiation_outbox", ["done_at", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_negotiation_outbox_due", table_name="negotiation_outbox")
    op.drop_table("negotiation_outbox")
    op.drop_index("ix_negotiations_state_role_created", table_name="negotiations")
    op.drop_table("negotiations")
