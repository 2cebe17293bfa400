"""Initial schema: dossiers, receipts, idempotency keys and the events outbox."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("dossier_id", sa.String(64), primary_key=True),
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(256), nullable=False),
        sa.Column("reference", sa.String(256), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canonical_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_dossiers_dedupe_key"),
    )
    op.create_table(
        "receipts",
        sa.Column("receipt_id", sa.String(64), primary_key=True),
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_receipts_dossier"),
            nullable=True,
        ),
        sa.Column("receipt_json", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_receipts_dossier_id", "receipts", ["dossier_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("sender", sa.String(256), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column(
            "receipt_id",
            sa.String(64),
            sa.ForeignKey("receipts.receipt_id", name="fk_idempotency_receipt"),
            nullable=False,
        ),
        sa.Column("payload_sha256", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column(
            "event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("dossier_id", sa.String(64), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_dossier_id", "events", ["dossier_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_receipts_dossier_id", table_name="receipts")
    op.drop_table("receipts")
    op.drop_table("dossiers")
