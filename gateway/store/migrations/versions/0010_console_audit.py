"""The operators' console: its audit trail, and the indexes its pages read by date."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_console_audit"
down_revision = "0004_bank_reports"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_audit",
        sa.Column("audit_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator_subject", sa.String(512), nullable=False),
        sa.Column("operator_fingerprint", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("archive_seq", sa.BigInteger(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_console_audit_action", "console_audit", ["action", "audit_id"])
    # the console's pages read titles by date (today, this month, a date filter)
    op.create_index("ix_dossiers_received_at", "dossiers", ["received_at"])
    op.create_index("ix_receipts_created_at", "receipts", ["created_at"])
    # refused titles (receipts without a dossier) are a small part of the receipts: their own index
    refused = sa.text("dossier_id IS NULL")
    op.create_index(
        "ix_receipts_refused",
        "receipts",
        ["created_at", "receipt_id"],
        sqlite_where=refused,
        postgresql_where=refused,
    )


def downgrade() -> None:
    op.drop_index("ix_receipts_refused", table_name="receipts")
    op.drop_index("ix_receipts_created_at", table_name="receipts")
    op.drop_index("ix_dossiers_received_at", table_name="dossiers")
    op.drop_index("ix_console_audit_action", table_name="console_audit")
    op.drop_table("console_audit")
