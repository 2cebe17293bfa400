"""Storage: SQLite by default, PostgreSQL when configured; ports, SQL and in-memory implementations."""

from gateway.services.ports import (
    DossierRepository,
    DossierRow,
    EventRepository,
    EventRow,
    IdempotencyRepository,
    IdempotencyRow,
    NewEvent,
    ReceiptRepository,
    ReceiptRow,
    Store,
    UnitOfWork,
)
from gateway.store.engine import create_engine_from_url
from gateway.store.memory import MemoryStore
from gateway.store.migrate import upgrade_to_head
from gateway.store.sql import SqlStore, open_sql_store

__all__ = [
    "DossierRepository",
    "DossierRow",
    "EventRepository",
    "EventRow",
    "IdempotencyRepository",
    "IdempotencyRow",
    "MemoryStore",
    "NewEvent",
    "ReceiptRepository",
    "ReceiptRow",
    "SqlStore",
    "Store",
    "UnitOfWork",
    "create_engine_from_url",
    "open_sql_store",
    "upgrade_to_head",
]
