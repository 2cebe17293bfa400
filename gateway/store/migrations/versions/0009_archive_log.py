"""The archive's log in the database: entries, the sequencing counter, small blobs, checkpoints."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_archive_log"
down_revision = "0007_amounts"  # main's head when merged (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_entries",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
    )
    head = op.create_table(
        "archive_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "size": 0}])
    op.create_table(
        "archive_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "archive_checkpoints",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cms", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    for table in ("archive_checkpoints", "archive_blobs", "archive_head", "archive_entries"):
        op.drop_table(table)
