"""Engine creation from a database URL: SQLite (default, tuned for one machine) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

# How long a SQLite writer waits for the write lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Option naming the BEGIN variant on SQLite; write transactions take the write lock up front.
BEGIN_MODE_OPTION = "gateway_sqlite_begin"


def normalise_url(url: str) -> URL:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator used (postgres://, postgresql://)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine_from_url(url: str, *, pool_size: int = 10) -> Engine:
    """An Engine for `url`, with the per-backend settings the gateway relies on."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if not in_memory:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so that we can say BEGIN IMMEDIATE:
        # a deferred transaction that reads then writes fails at once with "database is locked"
        # when another writer committed in between, whatever the busy timeout.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                # WAL: readers never block the writer and the writer never blocks readers.
                # synchronous stays FULL (the default): a signed receipt must never outlive its row.
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_MODE_OPTION, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
