"""SEPA out: mandates, debits (one per dossier and period), payment files, payouts."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_payments"
down_revision = "0002_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mandates",
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_mandates_dossier"),
            primary_key=True,
        ),
        sa.Column("reference", sa.String(35), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("debtor_name", sa.String(140), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("collection_day", sa.Integer(), nullable=True),
        sa.Column("chosen_day", sa.Integer(), nullable=False),
        sa.Column("first_collection_done", sa.Boolean(), nullable=False),
        sa.Column("pending_amendment", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("reference", name="uq_mandates_reference"),
    )
    op.create_table(
        "debits",
        sa.Column("end_to_end_id", sa.String(35), primary_key=True),
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_debits_dossier"),
            nullable=False,
        ),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("sequence", sa.String(4), nullable=False),
        sa.Column("mandate_reference", sa.String(35), nullable=False),
        sa.Column("mandate_signed_on", sa.Date(), nullable=False),
        sa.Column("debtor_name", sa.String(140), nullable=False),
        sa.Column("debtor_iban", sa.String(34), nullable=False),
        sa.Column("debtor_bic", sa.String(11), nullable=True),
        sa.Column("amendment", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(35), nullable=False),
        sa.Column("payment_info_id", sa.String(35), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dossier_id", "period", name="uq_debits_dossier_period"),
    )
    op.create_index("ix_debits_message_id", "debits", ["message_id"])
    op.create_table(
        "payment_files",
        sa.Column("message_id", sa.String(35), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("archive_seq", sa.BigInteger(), nullable=True),
        sa.Column("channel_ref", sa.String(512), nullable=True),
    )
    op.create_table(
        "credits",
        sa.Column("end_to_end_id", sa.String(35), primary_key=True),
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_credits_dossier"),
            nullable=False,
        ),
        sa.Column(
            "debit_end_to_end_id",
            sa.String(35),
            sa.ForeignKey("debits.end_to_end_id", name="fk_credits_debit"),
            nullable=False,
        ),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("creditor_name", sa.String(140), nullable=False),
        sa.Column("creditor_iban", sa.String(34), nullable=False),
        sa.Column("creditor_bic", sa.String(11), nullable=True),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("message_id", sa.String(35), nullable=False),
        sa.Column("payment_info_id", sa.String(35), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("debit_end_to_end_id", name="uq_credits_debit"),
    )
    op.create_index("ix_credits_message_id", "credits", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_credits_message_id", "credits")
    op.drop_table("credits")
    op.drop_table("payment_files")
    op.drop_index("ix_debits_message_id", "debits")
    op.drop_table("debits")
    op.drop_table("mandates")
