"""SEPA at national scale: the party's postal address on debits and payouts (EPC 2025 rulebooks:
required when the party's bank is in a non-EEA SEPA country), kept with the row so that a file
can be written again from its rows alone; an index to stream a file's debits in file order
(docs/sepa.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sepa_scale"
down_revision = "0010_console_audit"  # chained at merge (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("debits") as batch:
        batch.add_column(sa.Column("debtor_address", sa.Text(), nullable=True))
    # the collection file streams its debits in this order: no sort over a million rows
    op.create_index(
        "ix_debits_message_order",
        "debits",
        ["message_id", "sequence", "collection_date", "end_to_end_id"],
    )
    with op.batch_alter_table("credits") as batch:
        batch.add_column(sa.Column("creditor_address", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_debits_message_order", table_name="debits")
    with op.batch_alter_table("credits") as batch:
        batch.drop_column("creditor_address")
    with op.batch_alter_table("debits") as batch:
        batch.drop_column("debtor_address")
