"""Migrations apply from an empty database, are idempotent, and match the tables the code uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

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


def test_on_postgresql_ids_compare_as_bytes(postgres_url: str) -> None:
    """0016_ids_bytewise: every id column takes the "C" collation (SQLite's BINARY order, and no
    `strcoll` per comparison), whatever locale the server was created with; other text keeps the
    database's."""
    engine = create_engine_from_url(postgres_url)
    try:
        upgrade_to_head(engine)
        with engine.connect() as conn:
            # ordered by a column shaped as dossiers.dossier_id (CREATE TABLE AS keeps its collation)
            conn.exec_driver_sql("CREATE TEMP TABLE ids AS SELECT dossier_id FROM dossiers LIMIT 0")
            conn.exec_driver_sql("INSERT INTO ids VALUES ('DOS-a'), ('DOS-B'), ('DOS-_'), ('DOS-1')")
            ordered = conn.exec_driver_sql("SELECT dossier_id FROM ids ORDER BY dossier_id").scalars()
            assert list(ordered) == ["DOS-1", "DOS-B", "DOS-_", "DOS-a"]  # bytes: digits, upper, _, lower
        ids = {"dossier_id", "end_to_end_id", "debit_end_to_end_id", "message_id", "payment_info_id"}
        collation = _collations(engine)
        bytewise = {key for key, name in collation.items() if name == "C"}
        expected = {key for key in collation if key[1] in ids} | {
            ("debits", "period"), ("debits", "sequence"), ("debits", "status"),
            ("credits", "period"), ("credits", "status"),
            ("collection_spans", "first_period"), ("collection_spans", "last_period"),
        }  # fmt: skip
        assert len(expected) == 29  # 12 tables name a dossier
        assert bytewise == expected
        assert collation[("mandates", "debtor_name")] is None  # a name keeps the database's collation
    finally:
        engine.dispose()


def _collations(engine: Engine) -> dict[tuple[str, str], str | None]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'character varying'"
        ).all()
    return {(table, column): name for table, column, name in rows}


def test_on_postgresql_0016_goes_back_and_forth(postgres_url: str) -> None:
    """Down to 0015: the database's collation and the five-column index again; up: as before."""
    engine = create_engine_from_url(postgres_url)
    try:
        upgrade_to_head(engine)
        with engine.connect() as conn, conn.begin():
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, "0015_debits_checks")
        assert current_revision(engine) == "0015_debits_checks"
        assert "C" not in set(_collations(engine).values())
        index = {i["name"]: i for i in inspect(engine).get_indexes("debits")}["ix_debits_message"]
        assert index["column_names"] == ["message_id", "sequence", "collection_date", "dossier_id", "status"]
        upgrade_to_head(engine)
        assert _collations(engine)[("debits", "dossier_id")] == "C"
    finally:
        engine.dispose()
