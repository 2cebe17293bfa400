"""Steady spans for the monthly run (gateway.payments.span, docs/collection-run.md): per dossier,
the months that owe what the last month computed in full owed, with the mandate that debit used.

The index that streams a file's debits in file order now orders a batch by dossier instead of
EndToEndId (a hash): the run inserts debits in dossier order, so the index takes appended keys
instead of one random page per debit (a third of the insert's cost at 1,000,000 debits), and the
file's read follows the table. Rebuilt here over the existing debits.

No backfill: a dossier without a span takes the run's computed path, which writes its span, so
an upgraded store's first run fills the table (it costs what a run cost before this revision) and
the next month is issued in SQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_collection_spans"
down_revision = "0012_collection_profile"  # chained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_spans",
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_collection_spans_dossier"),
            primary_key=True,
        ),
        sa.Column("first_period", sa.String(7), nullable=False),
        sa.Column("last_period", sa.String(7), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.String(64), nullable=False),
        sa.Column("mandate_reference", sa.String(35), nullable=False),
        sa.Column("mandate_signed_on", sa.Date(), nullable=False),
        sa.Column("debtor_name", sa.String(140), nullable=False),
        sa.Column("debtor_iban", sa.String(34), nullable=False),
        sa.Column("debtor_bic", sa.String(11), nullable=True),
        sa.Column("collection_day", sa.Integer(), nullable=True),
        sa.Column("chosen_day", sa.Integer(), nullable=False),
        sa.Column("debtor_address", sa.Text(), nullable=True),
    )
    op.drop_index("ix_debits_message_order", table_name="debits")
    op.create_index(
        "ix_debits_message_order", "debits", ["message_id", "sequence", "collection_date", "dossier_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_debits_message_order", table_name="debits")
    op.create_index(
        "ix_debits_message_order", "debits", ["message_id", "sequence", "collection_date", "end_to_end_id"]
    )
    op.drop_table("collection_spans")
