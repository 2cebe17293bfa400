"""Signed mandates and payout accounts: a mandate is pending until the back-office records the
debtor's signature; the creditor's payout account is recorded the same way (docs/mandates.md).

Mandates created before this revision were made from the parents' consent to transmit bank
details, which is not a signature (art. R. 582-4-1 CSS): they become pending, their account kept
as a pre-fill, their date cleared, until a real signature is recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_mandates"
down_revision = "0004_bank_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mandates") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("amended_on", sa.Date(), nullable=True))
        batch.alter_column("signed_on", existing_type=sa.Date(), nullable=True)
    op.execute(sa.text("UPDATE mandates SET signed_on = NULL, status = 'pending'"))
    op.create_table(
        "payout_accounts",
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_payout_accounts_dossier"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(140), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False),
        sa.Column("bic", sa.String(11), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payout_accounts")
    # a pending mandate has no date of signature: it cannot go back to the old shape
    op.execute(sa.text("DELETE FROM mandates WHERE signed_on IS NULL"))
    with op.batch_alter_table("mandates") as batch:
        batch.alter_column("signed_on", existing_type=sa.Date(), nullable=False)
        batch.drop_column("amended_on")
        batch.drop_column("method")
        batch.drop_column("status")
