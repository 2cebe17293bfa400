"""Migrations apply from an empty database, are idempotent, and match the tables the code uses."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from gateway.store import create_engine_from_url, upgrade_to_head
from gateway.store.migrate import alembic_config, current_revision


def test_upgrade_head_from_empty_then_again(sql_url: str) -> None:
    engine = create_engine_from_url(sql_url)
    try:
        assert current_revision(engine) is None
        upgrade_to_head(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) == head
        upgrade_to_head(engine)  # a restart must not fail
        tables = set(inspect(engine).get_table_names())
        assert {"dossiers", "receipts", "idempotency_keys", "events"} <= tables
        uniques = inspect(engine).get_unique_constraints("dossiers")
        assert any(u["column_names"] == ["dedupe_key"] for u in uniques)
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'sub' / 'db.sqlite3'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()
