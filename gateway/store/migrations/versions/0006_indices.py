"""Revaluation: index values imported by operators, and the revaluations applied (one event each)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_indices"
down_revision = "0009_archive_log"  # main's head when merged (assigned: after 0004_bank_reports)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_values",
        sa.Column("series", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("value", sa.String(24), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "revaluations",
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_revaluations_dossier"),
            primary_key=True,
        ),
        sa.Column("child", sa.Integer(), primary_key=True),
        sa.Column("revalued_on", sa.Date(), primary_key=True),
        sa.Column("old_cents", sa.BigInteger(), nullable=True),
        sa.Column("new_cents", sa.BigInteger(), nullable=False),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("base_value", sa.String(24), nullable=False),
        sa.Column("base_period", sa.String(7), nullable=True),
        sa.Column("value", sa.String(24), nullable=False),
        sa.Column("value_period", sa.String(7), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revaluations")
    op.drop_table("index_values")
