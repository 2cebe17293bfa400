"""SQLAlchemy Core tables of the gateway's store (the migrations create the same shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime on every backend (SQLite keeps no offset, so we store UTC and say so)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: times are tz-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (auto-increment); PostgreSQL gets BIGINT.
EventId = BigInteger().with_variant(Integer(), "sqlite")

dossiers = Table(
    "dossiers",
    metadata,
    Column("dossier_id", String(64), primary_key=True),
    Column("dedupe_key", String(128), nullable=False),
    Column("source_kind", String(16), nullable=False),
    Column("sender", String(256), nullable=False),
    Column("reference", String(256), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("canonical_json", Text(), nullable=False),
    Column("status", String(32), nullable=False),
    UniqueConstraint("dedupe_key", name="uq_dossiers_dedupe_key"),
)

receipts = Table(
    "receipts",
    metadata,
    Column("receipt_id", String(64), primary_key=True),
    Column("dossier_id", String(64), ForeignKey("dossiers.dossier_id"), nullable=True, index=True),
    Column("receipt_json", Text(), nullable=False),
    Column("signature", LargeBinary(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("sender", String(256), primary_key=True),
    Column("key", String(256), primary_key=True),
    Column("receipt_id", String(64), ForeignKey("receipts.receipt_id"), nullable=False),
    Column("payload_sha256", String(64), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# AUTOINCREMENT on SQLite: an id is never reused, even after the highest row is deleted.
events = Table(
    "events",
    metadata,
    Column("event_id", EventId, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("dossier_id", String(64), nullable=True, index=True),
    Column("payload_json", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    sqlite_autoincrement=True,
)

# Back-office push (issue 7): one row per (subscription, event), see gateway.store.deliveries.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", EventId, primary_key=True, autoincrement=True),
    Column("subscription", String(256), nullable=False),
    Column("event_id", EventId, ForeignKey("events.event_id"), nullable=False),
    Column("dossier_id", String(64), nullable=True),  # copied from the event: per-dossier order
    Column("status", String(16), nullable=False),  # pending, delivered, dead
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UtcDateTime(), nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),  # lease of the worker delivering it
    Column("claim_token", String(64), nullable=True),  # fences a worker whose lease ran out
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", String(512), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime(), nullable=True),
    UniqueConstraint("subscription", "event_id", name="uq_webhook_deliveries_subscription_event"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_dossier", "subscription", "dossier_id", "event_id"),
    sqlite_autoincrement=True,
)

# How far the fan-out has read the outbox for each subscription.
webhook_cursors = Table(
    "webhook_cursors",
    metadata,
    Column("subscription", String(256), primary_key=True),
    Column("last_event_id", EventId, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)
