"""Rows of the amounts table an operator adds: kept in the store (every replica reads them), only the
year after the last row, never twice, with the published net as a cross-check (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from gateway.errors import Code, GatewayError, RuleViolation
from gateway.payments.amounts import AmountsRow, AmountsTable, shipped_table
from gateway.payments.amounts_entry import new_row
from gateway.store import open_sql_store
from gateway.store.amounts import add_row, added_rows, amounts_table

AT = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
SOURCE = "Revaluation of 1 April 2027 (test figures)"


def _row(table: AmountsTable, **change: str) -> AmountsRow:
    fields = {"since": "2027-04-01", "bmaf": "483.00", "published_asf_net": "202.81", "source": SOURCE}
    fields.update(change)
    return new_row(table, **fields)


def test_an_added_row_is_shared_by_every_connection(sql_url: str) -> None:
    writer, reader = open_sql_store(sql_url), open_sql_store(sql_url)
    try:
        with writer.transaction() as uow:
            row = new_row(
                amounts_table(uow.connection),
                since="2027-04-01",
                bmaf="483.00",
                published_asf_net="202.81",
                source=SOURCE,
                rsa_single="660.00",
            )
            add_row(uow.connection, row, at=AT)
        with reader.read() as uow:  # another replica
            table = amounts_table(uow.connection)
            assert [r.since for r in added_rows(uow.connection)] == [date(2027, 4, 1)]
        got = table.on(date(2027, 6, 1))
        assert (got.bmaf_cents, got.asf_one_parent_gross_cents, got.asf_one_parent_net_cents) == (
            48300,
            20383,
            20281,
        )
        assert (got.rsa_single_cents, got.source) == (66000, SOURCE)
        assert table.rows[:3] == shipped_table().rows
        with writer.transaction() as uow, pytest.raises(RuleViolation) as info:
            add_row(uow.connection, row, at=AT)
        assert (info.value.code, info.value.field) == (Code.AMOUNTS_ROW_EXISTS, "since")
    finally:
        writer.close()
        reader.close()


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"since": "2028-04-01"}, Code.AMOUNTS_ROW_OUT_OF_SEQUENCE, "since"),  # a gap: 2027 missing
        ({"since": "2027-01-01"}, Code.AMOUNTS_ROW_OUT_OF_SEQUENCE, "since"),  # not 1 April (L. 551-1 CSS)
        ({"since": "2026-04-01"}, Code.AMOUNTS_ROW_EXISTS, "since"),
        ({"since": "1 April 2027"}, Code.INVALID_DATE, "since"),
        ({"bmaf": "-483"}, Code.INVALID_AMOUNT, "bmaf"),
        ({"bmaf": "483.001"}, Code.INVALID_AMOUNT, "bmaf"),
        ({"bmaf": "abc"}, Code.INVALID_AMOUNT, "bmaf"),
        ({"bmaf": "438.00"}, Code.AMOUNTS_MISMATCH, "published_asf_net"),  # a mistyped BMAF
        ({"published_asf_net": "0"}, Code.INVALID_AMOUNT, "published_asf_net"),
        ({"source": "  "}, Code.MISSING_FIELD, "source"),
        ({"source": "x" * 1001}, Code.MISSING_FIELD, "source"),
        ({"rsa_single": "NaN"}, Code.INVALID_AMOUNT, "rsa_single"),
        ({"asf_rate_one_parent": "42.20"}, Code.INVALID_AMOUNT, "asf_rate_one_parent"),  # a share, not %
        ({"asf_rate_both_parents": "0.56251"}, Code.INVALID_AMOUNT, "asf_rate_both_parents"),
    ],
)
def test_bad_rows_are_refused_with_a_code_and_the_field(
    change: dict[str, str], code: str, field: str
) -> None:
    with pytest.raises(GatewayError) as info:
        _row(shipped_table(), **change)
    assert (info.value.code, info.value.field) == (code, field)


def test_two_operators_adding_the_same_year_at_once_add_it_once(sql_url: str) -> None:
    stores = [open_sql_store(sql_url) for _ in range(2)]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def add(index: int) -> None:
        store = stores[index]
        barrier.wait()
        try:
            with store.transaction() as uow:
                row = new_row(
                    amounts_table(uow.connection),
                    since="2027-04-01",
                    bmaf="483.00",
                    published_asf_net="202.81",
                    source=f"{SOURCE} #{index}",
                )
                add_row(uow.connection, row, at=AT)
            outcomes.append("added")
        except RuleViolation as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert sorted(outcomes) == ["added", Code.AMOUNTS_ROW_EXISTS]
        with stores[0].read() as uow:
            assert len(added_rows(uow.connection)) == 1
    finally:
        for store in stores:
            store.close()
