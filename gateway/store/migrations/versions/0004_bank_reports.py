"""Bank reports in: imported reports (idempotency), debit progress (money in and out), anomalies."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_bank_reports"
down_revision = "0003_payments"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bank_reports",
        sa.Column("report_key", sa.String(80), primary_key=True),  # "camt.054:<MsgId>"
        sa.Column("message", sa.String(32), nullable=False),
        sa.Column("report_id", sa.String(35), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("archive_seq", sa.BigInteger(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
    )
    op.create_table(
        "debit_progress",
        sa.Column(
            "end_to_end_id",
            sa.String(35),
            sa.ForeignKey("debits.end_to_end_id", name="fk_debit_progress_debit"),
            primary_key=True,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("collected_cents", sa.BigInteger(), nullable=False),
        sa.Column("returned_cents", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(8), nullable=True),
        sa.Column("report_key", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "bank_anomalies",
        sa.Column("anomaly_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("report_key", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("dossier_id", sa.String(64), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_bank_anomalies_report_key", "bank_anomalies", ["report_key"])


def downgrade() -> None:
    op.drop_index("ix_bank_anomalies_report_key", "bank_anomalies")
    op.drop_table("bank_anomalies")
    op.drop_table("debit_progress")
    op.drop_table("bank_reports")
