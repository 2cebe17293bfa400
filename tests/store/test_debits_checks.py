"""No debit without its dossier, on both backends (0015_debits_checks): SQLite by its foreign key,
PostgreSQL by one check per statement (INSERT, INSERT ... SELECT and COPY alike) and dossiers that
are never deleted or renamed; one index reads a file's debits in file order; and the spans
statement on PostgreSQL reads by merge joins, its planner settings restored afterwards."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from gateway.services.records import DebitRow
from gateway.store import SqlStore, open_sql_store, schema
from gateway.store.payments import SqlPayments
from gateway.store.profiles import SqlCollection
from tests.integration.sepa.test_profile_runs import dossiers, fill
from tests.store.test_spans_store import _covered_store, _issue, spans_statements

AT = datetime(2026, 12, 6, 9, tzinfo=UTC)


def _debit(dossier_id: str, end_to_end_id: str = "DD202701-T1") -> DebitRow:
    return DebitRow(
        end_to_end_id, dossier_id, "2027-01", 15_000, date(2027, 1, 5), "RCUR", "RUM-T1", date(2026, 1, 2),
        "Jean Martin", "FR7630006000011234567890189", None, None, "MSG-T1", "PI-T1", "issued", None, AT,
    )  # fmt: skip


def _store(url: str) -> tuple[SqlStore, str]:
    store = open_sql_store(url)
    fill(store, list(dossiers(2)))
    with store.engine.connect() as conn:
        known = conn.execute(
            select(schema.dossiers.c.dossier_id).order_by(schema.dossiers.c.dossier_id)
        ).scalar()
    assert known is not None
    return store, known


def _count_debits(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.debits)).scalar_one())


def test_a_debit_without_its_dossier_is_refused_by_insert(sql_url: str) -> None:
    store, known = _store(sql_url)
    try:
        with pytest.raises(IntegrityError) as refused, store.engine.begin() as conn:
            conn.execute(insert(schema.debits).values(**_debit("DOS-NOSUCHDOSSIER00")._asdict()))
        if store.engine.dialect.name == "postgresql":
            assert "dossier DOS-NOSUCHDOSSIER00, which does not exist" in str(refused.value)
        assert _count_debits(store) == 0
        with store.engine.begin() as conn:  # its dossier known: accepted
            conn.execute(insert(schema.debits).values(**_debit(known)._asdict()))
        assert _count_debits(store) == 1
    finally:
        store.close()


def test_a_debit_without_its_dossier_is_refused_by_the_run_s_bulk_insert(sql_url: str) -> None:
    """`add_debits`: COPY on PostgreSQL, executemany on SQLite; one bad row fails them all."""
    store, known = _store(sql_url)
    try:
        rows = [_debit(known, "DD202701-T1"), _debit("DOS-NOSUCHDOSSIER00", "DD202701-T2")]
        # the driver's own error (the bulk insert runs on the driver's cursor)
        refused = (sqlite3.IntegrityError, psycopg.errors.ForeignKeyViolation)
        with pytest.raises(refused), store.engine.begin() as conn:
            SqlPayments(conn).add_debits(rows)
        assert _count_debits(store) == 0
    finally:
        store.close()


@pytest.mark.postgres
def test_on_postgresql_a_dossier_is_never_deleted_nor_renamed(postgres_url: str) -> None:
    store, known = _store(postgres_url)
    d = schema.dossiers
    try:
        with (
            pytest.raises(DBAPIError, match=f"dossier {known} cannot be deleted"),
            store.engine.begin() as conn,
        ):
            conn.execute(delete(d).where(d.c.dossier_id == known))
        with (
            pytest.raises(DBAPIError, match=f"dossier {known} cannot change its id"),
            store.engine.begin() as conn,
        ):
            conn.execute(update(d).where(d.c.dossier_id == known).values(dossier_id="DOS-RENAMED"))
        with store.engine.begin() as conn:  # any other change is the store's business, as before
            conn.execute(update(d).where(d.c.dossier_id == known).values(status="rejected"))
            conn.execute(update(d).where(d.c.dossier_id == known).values(dossier_id=known))
        with store.engine.connect() as conn:
            assert conn.execute(select(d.c.status).where(d.c.dossier_id == known)).scalar() == "rejected"
    finally:
        store.close()


def test_one_index_reads_a_file_s_debits(sql_url: str) -> None:
    """File order, then the status: a key column on SQLite, an included one on PostgreSQL
    (0016_ids_bytewise)."""
    store = open_sql_store(sql_url)
    try:
        indexes = {i["name"]: i for i in inspect(store.engine).get_indexes("debits")}
        keys = ["message_id", "sequence", "collection_date", "dossier_id"]
        found = indexes["ix_debits_message"]
        if store.engine.dialect.name == "postgresql":
            assert found["column_names"] == keys
            assert found["dialect_options"]["postgresql_include"] == ["status"]
        else:
            assert found["column_names"] == [*keys, "status"]
        assert not {"ix_debits_message_status", "ix_debits_message_order"} & set(indexes)
    finally:
        store.close()


@pytest.mark.postgres
def test_on_postgresql_the_spans_statement_merges_and_restores_the_planner(
    postgres_url: str, tmp_path: Path, dev_pki: Path
) -> None:
    store, _ = _covered_store(postgres_url, tmp_path, dev_pki)
    try:
        with store.engine.connect() as conn:  # what autovacuum does long before a month's run
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE) mandates")
        with spans_statements(store) as seen, store.transaction() as uow:
            conn = uow.connection
            assert _issue(SqlCollection(conn), "2025-10") > 0
            settings = "SELECT current_setting('enable_hashjoin'), current_setting('enable_nestloop')"
            assert tuple(conn.exec_driver_sql(settings).one()) == ("on", "on")
            (statement, parameters) = seen[0]
            with SqlCollection(conn)._statement_settings():
                plan = "\n".join(
                    str(r[0])
                    for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)  # type: ignore[arg-type]
                )
    finally:
        store.close()
    assert "Merge Join" in plan, plan
    assert "Hash Join" not in plan, plan
    assert "Nested Loop" not in plan, plan
    assert "Sort" not in plan, plan
    # the mandates from their partial covering index, no row read (0017_mandates_collectable)
    assert "Index Only Scan using ix_mandates_collectable on mandates" in plan, plan


def test_the_run_issues_debits_after_the_checks(sql_url: str, tmp_path: Path, dev_pki: Path) -> None:
    """The months of a store go on as before (0015 changes no result): the second month is
    issued from the spans, every debit with its dossier."""
    store, _ = _covered_store(sql_url, tmp_path, dev_pki)
    try:
        with store.transaction() as uow:
            assert _issue(SqlCollection(uow.connection), "2025-10") > 0
        d, x = schema.debits, schema.dossiers
        with store.engine.connect() as conn:
            orphans = conn.execute(
                select(d.c.end_to_end_id).where(
                    ~select(x.c.dossier_id).where(x.c.dossier_id == d.c.dossier_id).exists()
                )
            ).all()
        assert orphans == []
    finally:
        store.close()
