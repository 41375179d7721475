"""transfer processes (DSP 2025-1), their outbox, data-plane tokens (hashed) and usage counts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("consumer_pid", sa.String(512), nullable=True),
        sa.Column("provider_pid", sa.String(512), nullable=True),
        sa.Column("counterparty_pid", sa.String(512), nullable=True),
        sa.Column("counterparty_did", sa.String(512), nullable=False),
        sa.Column("counterparty_address", sa.Text(), nullable=True),
        sa.Column("agreement_id", sa.String(512), nullable=False),
        sa.Column("dataset_id", sa.String(512), nullable=True),
        sa.Column("format", sa.String(64), nullable=False),
        sa.Column("data_address", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("membership", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_message", sa.String(64), nullable=True),
        sa.Column("last_sender", sa.String(16), nullable=True),
        sa.Column("last_digest", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
        sa.UniqueConstraint("role", "counterparty_did", "counterparty_pid", name="uq_transfers_counterparty"),
    )
    op.create_index("ix_transfers_state_role_created", "transfers", ["state", "role", "created_at"])
    op.create_table(
        "transfer_outbox",
        sa.Column("id", sa.String(128), nullable=False),
        sa.Column("transfer_id", sa.String(512), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name="pk_transfer_outbox"),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfers.id"], name="fk_transfer_outbox_transfer", ondelete="CASCADE"),
    )
    op.create_index("ix_transfer_outbox_due", "transfer_outbox", ["done_at", "next_attempt_at"])
    op.create_table(
        "transfer_tokens",
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("transfer_id", sa.String(512), nullable=False),
        sa.Column("agreement_id", sa.String(512), nullable=False),
        sa.Column("dataset_id", sa.String(512), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_transfer_tokens"),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfers.id"], name="fk_transfer_tokens_transfer", ondelete="CASCADE"),
    )
    op.create_index("ix_transfer_tokens_transfer", "transfer_tokens", ["transfer_id"])
    op.create_table(
        "transfer_usage",
        sa.Column("agreement_id", sa.String(512), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name="pk_transfer_usage"),
    )


def downgrade() -> None:
    op.drop_table("transfer_usage")
    op.drop_index("ix_transfer_tokens_transfer", table_name="transfer_tokens")
    op.drop_table("transfer_tokens")
    op.drop_index("ix_transfer_outbox_due", table_name="transfer_outbox")
    op.drop_table("transfer_outbox")
    op.drop_index("ix_transfers_state_role_created", table_name="transfers")
    op.drop_table("transfers")
