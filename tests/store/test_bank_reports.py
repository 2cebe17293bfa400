"""Claiming a bank report's key (gateway.store.bank): once per report, and again after a rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.services.records import BankReportRow
from gateway.store.bank import SqlDebitBook, claim_report, complete_report, report_keys
from gateway.store.sql import SqlStore, open_sql_store

AT = datetime(2026, 11, 6, 8, 0, tzinfo=UTC)
KEY = "camt.054:NTF-1"


def _row() -> BankReportRow:
    return BankReportRow(KEY, "camt.054.001.08", "NTF-1", "0" * 64, 7, AT, {})


class _Rollback(Exception):
    pass


def _claim_then_fail(store: SqlStore) -> None:
    with store.transaction() as uow:
        assert claim_report(uow.connection, _row())
        raise _Rollback  # a report found invalid halfway: its claim goes with the rest


def test_a_report_is_claimed_once_and_again_after_a_rollback(sql_url: str) -> None:
    store = open_sql_store(sql_url)
    try:
        with pytest.raises(_Rollback):
            _claim_then_fail(store)
        with store.transaction() as uow:
            conn = uow.connection
            assert claim_report(conn, _row())
            assert not SqlDebitBook(conn, report_key=KEY, now=AT, claimed=True).report_seen(KEY)
            complete_report(conn, KEY, {"counts": {"settled": 1}})
        with store.transaction() as uow:
            conn = uow.connection
            assert not claim_report(conn, _row())
            assert SqlDebitBook(conn, report_key=KEY, now=AT, claimed=False).report_seen(KEY)
            assert report_keys(conn) == [KEY]
    finally:
        store.close()
