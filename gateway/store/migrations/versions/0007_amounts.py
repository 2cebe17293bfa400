"""Money: the rows of the amounts table (BMAF, ASF rates, RSA) an operator added, with their source."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_amounts"
down_revision = "0005_mandates"  # main's head when merged (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amounts_rows",
        sa.Column("since", sa.Date(), primary_key=True),
        sa.Column("bmaf_cents", sa.BigInteger(), nullable=False),
        sa.Column("asf_rate_one_parent", sa.String(16), nullable=False),
        sa.Column("asf_rate_both_parents", sa.String(16), nullable=False),
        sa.Column("rsa_single_cents", sa.BigInteger(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("amounts_rows")
