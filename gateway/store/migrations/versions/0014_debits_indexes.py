"""One index less on each side of a payment file: `ix_debits_message_id` and
`ix_credits_message_id` (on `message_id` alone) duplicate the first column of
`ix_debits_message_status` / `ix_credits_message_status` (message_id, status), which answer every
lookup by file as well. Each debit or credit a run inserts wrote one more index entry for nothing:
about a second of the 1,000,000-debit run (bench/README.md).
"""

from __future__ import annotations

from alembic import op

revision = "0014_debits_indexes"
down_revision = "0013_collection_spans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_debits_message_id", table_name="debits")
    op.drop_index("ix_credits_message_id", table_name="credits")


def downgrade() -> None:
    op.create_index("ix_credits_message_id", "credits", ["message_id"])
    op.create_index("ix_debits_message_id", "debits", ["message_id"])
