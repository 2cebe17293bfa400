"""SQLAlchemy Core tables of the gateway's store (the migrations create the same shapes)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
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
