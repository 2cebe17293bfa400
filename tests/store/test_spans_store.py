"""Steady spans in the store (0013_collection_spans, gateway.store.profiles.SqlCollection): the
EndToEndId the SQL writes is the one gateway.sepa.ids makes (SQLite's function and PostgreSQL's
own SQL), and on PostgreSQL the run holds the mandates while it issues debits from spans, so that a
mandate withdrawn or changed concurrently is never debited on its old terms
(tests/store/test_run_holds_mandates.py: the whole run)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import String, event, literal, literal_column, select, text, update
from sqlalchemy.exc import OperationalError

from gateway.payments.indices import shipped_table
from gateway.payments.span import span_basis
from gateway.sepa import ids
from gateway.services.collection import span_days
from gateway.store import SqlStore, open_sql_store, schema
from gateway.store.profiles import SqlCollection, _pg_end_to_end_id, debit_end_to_end_id
from tests.integration.sepa.test_profile_runs import AT, dossiers, fill
from tests.integration.sepa.test_runs import Env

PERIODS = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2000, 2099), st.integers(1, 12))
ANY_IDS = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\x1f"), max_size=64)
# gateway ids (written as they are) and ids that only look like one (hashed)
GATEWAY_IDS = st.from_regex(r"DOS-[A-Z2-7]{16}", fullmatch=True)
NEAR_IDS = st.builds(
    lambda core, edit: edit(core),
    GATEWAY_IDS,
    st.sampled_from([str.lower, lambda i: i + "\n", lambda i: i[:-1] + "8", lambda i: " " + i]),
)
IDS = ANY_IDS | GATEWAY_IDS | NEAR_IDS


@settings(max_examples=300)
@given(dossier_id=IDS, period=PERIODS)
def test_sqlite_s_end_to_end_id_is_the_file_s(dossier_id: str, period: str) -> None:
    assert debit_end_to_end_id(period)(dossier_id) == ids.end_to_end_id(dossier_id, "DD", period)


def test_postgresql_s_end_to_end_id_is_the_file_s(postgres_url: str) -> None:
    store = open_sql_store(postgres_url)
    try:
        wanted = [
            "D000000000001", "DOS-2026-ÉLÈVE-ß", "x" * 64, "",
            "DOS-ABCDEFGHIJ234567", "dos-ABCDEFGHIJ234567", "DOS-ABCDEFGHIJ234568", "DOS-ABCDEFGHIJ234567\n",
            "DOS-ABCDEFGHIJ23456\u00c9", "DOS-abcdefghij234567", "DOS-ABCDEFGHIJ23456 ",
            "DOS--ABCDEFGHIJ23456",
        ]  # fmt: skip
        with store.engine.connect() as conn:
            for dossier_id in wanted:
                for period in ("2026-12", "2027-01"):
                    found = conn.execute(
                        select(_pg_end_to_end_id(literal(dossier_id, String), period))
                    ).scalar()
                    assert found == ids.end_to_end_id(dossier_id, "DD", period)
    finally:
        store.close()


def _covered_store(url: str, tmp: Path, pki: Path) -> tuple[SqlStore, str]:
    """A store whose first month was computed; a dossier its spans cover next month."""
    store = open_sql_store(url)
    fill(store, list(dossiers(40)))
    Env(store, tmp, pki).debits("2025-09", AT + timedelta(days=600))
    s, m = schema.collection_spans, schema.mandates
    with store.engine.connect() as conn:
        dossier_id = conn.execute(
            select(s.c.dossier_id)
            .join(m, m.c.dossier_id == s.c.dossier_id)
            .where(s.c.first_period == "2025-10", m.c.first_collection_done.is_(True))
            .order_by(s.c.dossier_id)
        ).scalar()
    assert dossier_id is not None
    return store, dossier_id


def _issue(collection: SqlCollection, period: str) -> int:
    msg = ids.message_id(f"{period}#t", "DD", AT.date())
    return collection.issue_spans(
        period, message_id=msg, created_at=datetime(2025, 9, 25, tzinfo=UTC), days=span_days(period, msg),
        basis=span_basis(shipped_table()),
    )  # fmt: skip


@pytest.mark.postgres
def test_a_mandate_change_waits_for_the_run_that_debits_it(
    postgres_url: str, tmp_path: Path, dev_pki: Path
) -> None:
    store, dossier_id = _covered_store(postgres_url, tmp_path, dev_pki)
    try:
        with store.transaction() as uow:
            collection = SqlCollection(uow.connection)
            collection.hold_mandates()
            count = _issue(collection, "2025-10")
            assert count > 0
            m = schema.mandates
            withdraw = update(m).where(m.c.dossier_id == dossier_id).values(status="pending")
            with store.engine.connect() as other:
                other.execute(text("SET lock_timeout = '300ms'"))
                with pytest.raises(OperationalError, match="lock"):
                    other.execute(withdraw)
                other.rollback()
                # reading is not held: the console and GET answer during a run
                found = other.execute(select(m.c.status).where(m.c.dossier_id == dossier_id)).scalar()
                assert found == "signed"
    finally:
        store.close()


@pytest.mark.postgres
def test_a_mandate_withdrawn_while_the_run_waits_is_not_debited(
    postgres_url: str, tmp_path: Path, dev_pki: Path
) -> None:
    """The withdrawal holds the mandate's row when the run starts: the run's hold on the mandates
    waits for its commit, then the run reads the mandate as committed and leaves the dossier to
    the computed path, which lists it as waiting."""
    store, dossier_id = _covered_store(postgres_url, tmp_path, dev_pki)
    try:
        holding, m = threading.Event(), schema.mandates

        def withdraw() -> None:
            with store.engine.begin() as conn:
                conn.execute(
                    update(m).where(m.c.dossier_id == dossier_id).values(status="pending", signed_on=None)
                )
                holding.set()
                time.sleep(0.5)

        thread = threading.Thread(target=withdraw)
        thread.start()
        holding.wait(5)
        started = time.perf_counter()
        report = Env(store, tmp_path, dev_pki).debits("2025-10", AT + timedelta(days=631))
        thread.join()
        assert time.perf_counter() - started > 0.2  # it waited for the withdrawal's commit
        assert report.from_spans > 0
        assert dossier_id in report.waiting["mandate-pending"].dossiers
        d = schema.debits
        with store.engine.connect() as conn:
            issued = conn.execute(
                select(d.c.end_to_end_id).where(d.c.dossier_id == dossier_id, d.c.period == "2025-10")
            )
            assert issued.first() is None
    finally:
        store.close()


def test_on_sqlite_the_spans_issue_what_they_cover(tmp_path: Path, dev_pki: Path) -> None:
    store, dossier_id = _covered_store(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path, dev_pki)
    try:
        with store.transaction() as uow:
            count = _issue(SqlCollection(uow.connection), "2025-10")
            d = schema.debits
            row = uow.connection.execute(
                select(d).where(d.c.dossier_id == dossier_id, d.c.period == "2025-10")
            ).one()
        assert count > 0
        assert row.end_to_end_id == ids.end_to_end_id(dossier_id, "DD", "2025-10")
        assert (row.sequence, row.status, row.amendment) == ("RCUR", "issued", None)
    finally:
        store.close()


@contextmanager
def spans_statements(store: SqlStore) -> Iterator[list[tuple[str, object]]]:
    """The spans statements the store runs meanwhile, (SQL, parameters) each."""
    seen: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, statement: str, parameters: object, *_: object) -> None:
        if statement.startswith("INSERT INTO debits") and "collection_spans" in statement:
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)


def test_on_sqlite_the_spans_statement_reads_in_key_order(tmp_path: Path, dev_pki: Path) -> None:
    """The plan the national run relies on (bench/README.md, "A realistic store"): the spans read
    in dossier order by their key, each mandate found by its key (not by the reference's index,
    a hash: one random page per debit), and the month's debits inserted in dossier order (with
    the gateway's dossier ids their EndToEndIds then sort the same way: tests/unit/sepa/test_ids.py,
    so the key index is appended to)."""
    store, _ = _covered_store(f"sqlite:///{tmp_path / 's.sqlite3'}", tmp_path, dev_pki)
    try:
        with spans_statements(store) as seen, store.transaction() as uow:
            assert _issue(SqlCollection(uow.connection), "2025-10") > 0
            (statement, parameters) = seen[0]
            plan = [
                row[3]
                for row in uow.connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[arg-type]
            ]
            d = schema.debits
            issued = uow.connection.execute(
                select(d.c.dossier_id, d.c.end_to_end_id)
                .where(d.c.period == "2025-10")
                .order_by(literal_column("rowid"))
            ).all()
    finally:
        store.close()
    assert any(
        step.startswith("SCAN collection_spans USING INDEX sqlite_autoindex_collection_spans_1")
        for step in plan
    ), plan
    assert any(
        "SEARCH mandates USING INDEX sqlite_autoindex_mandates_1 (dossier_id=?)" in step for step in plan
    ), plan
    assert not any("mandates" in step and "reference" in step for step in plan), plan
    assert [r.dossier_id for r in issued] == sorted(r.dossier_id for r in issued)
