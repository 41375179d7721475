"""negotiations: the agreement's id in a column of its own, so transfers and jobs find it;
the outbox: each message's audience DID, so the sender need not read the negotiation

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("negotiations") as batch:
        batch.add_column(sa.Column("agreement_id", sa.String(512), nullable=True))
    op.create_index("ix_negotiations_agreement", "negotiations", ["agreement_id"])
    with op.batch_alter_table("negotiation_outbox") as batch:
        batch.add_column(sa.Column("audience", sa.String(512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("negotiation_outbox") as batch:
        batch.drop_column("audience")
    op.drop_index("ix_negotiations_agreement", table_name="negotiations")
    with op.batch_alter_table("negotiations") as batch:
        batch.drop_column("agreement_id")
