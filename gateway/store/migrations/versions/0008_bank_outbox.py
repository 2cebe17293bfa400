"""The bank-file outbox: a SEPA file reaches the bank only from what a run committed (issue 12)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_bank_outbox"
down_revision = "0011_sepa_scale"  # chained at merge (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_outbox",
        sa.Column("message_id", sa.String(35), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(128), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),  # the recorded file, as signed and archived
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),  # pending, sent
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_ref", sa.String(512), nullable=True),
    )
    op.create_index("ix_bank_outbox_status", "bank_outbox", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_bank_outbox_status", "bank_outbox")
    op.drop_table("bank_outbox")
