"""The operators' console: its audit trail, and the indexes its pages read by date."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_console_audit"
down_revision = "0006_indices"  # chained at merge (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEXES = (
    # titles today / this month by source (dashboard)
    ("ix_dossiers_received_source", "dossiers", ["received_at", "source_kind"]),
    # dossiers by status (dashboard: those without a mandate)
    ("ix_dossiers_status", "dossiers", ["status"]),
    # refused titles (no dossier) newest first, by date (dashboard, refused titles)
    ("ix_receipts_dossier_created", "receipts", ["dossier_id", "created_at", "receipt_id"]),
    # a file's transactions by bank status (collections)
    ("ix_debits_message_status", "debits", ["message_id", "status"]),
    ("ix_credits_message_status", "credits", ["message_id", "status"]),
    # a bank report's reason codes (collections)
    ("ix_debit_progress_report_reason", "debit_progress", ["report_key", "reason"]),
    # deliveries per subscription and status (deliveries)
    (
        "ix_webhook_deliveries_subscription_status",
        "webhook_deliveries",
        ["subscription", "status", "attempts"],
    ),
)


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
    # The console's pages, each bounded with 100,000 dossiers (bench/console.py): covering
    # indexes, so that a count or a group-by reads an index and not the wide rows.
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_console_audit_action", table_name="console_audit")
    op.drop_table("console_audit")
