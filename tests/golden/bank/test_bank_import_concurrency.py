"""Two imports of the same bank report at once (two replicas, or an operator and a cron job): one
applies it, the other reports the duplicate exactly as a second import in sequence does; on SQLite
and on PostgreSQL, where the second one used to fail on the report's unique key."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from gateway.bootstrap import Gateway, build
from gateway.config import Settings
from gateway.services.bank_import import ImportResult, import_report
from gateway.store import schema
from gateway.store.bank import SqlDebitBook, report_keys
from tests.golden.bank.test_bank_import import HERE, NOW, _events, _seed
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]

REPORT = HERE / "camt054_v08_credits.xml"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path: Path, dev_pki: Path) -> Settings:
    url = f"sqlite:///{tmp_path / 'var' / 'gateway.sqlite3'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
    return Settings(data_dir=tmp_path / "var", certs_dir=dev_pki, database_url=url)


@pytest.fixture
def replicas(settings: Settings) -> Iterator[list[Gateway]]:
    """Two gateways on one database and archive, as two replicas (each its own connection pool)."""
    first = build(settings)
    _seed(first)
    second = build(settings)
    yield [first, second]
    for gateway in (first, second):
        gateway.close()


def _waiting_on_a_lock(gateway: Gateway) -> bool:
    with gateway.store.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        return bool(conn.execute(text(query)).scalar())


def _hold_the_first_import_open(monkeypatch: pytest.MonkeyPatch, watcher: Gateway) -> threading.Event:
    """Pause the import that applies the report, inside its transaction, until the other import has
    reached the database (PostgreSQL: waits on a lock; SQLite: no way to see it, give it time)."""
    inside = threading.Event()
    update = SqlDebitBook.update
    postgres = watcher.store.engine.dialect.name == "postgresql"

    def paused(self: SqlDebitBook, *args: Any) -> None:
        if not inside.is_set():
            inside.set()
            deadline = time.monotonic() + (10 if postgres else 0.5)
            while time.monotonic() < deadline and not (postgres and _waiting_on_a_lock(watcher)):
                time.sleep(0.02)
        update(self, *args)

    monkeypatch.setattr(SqlDebitBook, "update", paused)
    return inside


def _count(gateway: Gateway, table: Any) -> int:
    with gateway.store.read() as uow:
        return int(uow.connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_same_report_imported_twice_at_once_is_applied_once(
    replicas: list[Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = replicas
    inside = _hold_the_first_import_open(monkeypatch, watcher=first)
    results: dict[str, ImportResult] = {}
    errors: list[BaseException] = []

    def run(name: str, gateway: Gateway, after: threading.Event | None) -> None:
        try:
            if after is not None:
                assert after.wait(10), "the first import never reached its transaction"
            results[name] = import_report(gateway, REPORT, now=lambda: NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=("first", first, None)),
        threading.Thread(target=run, args=("second", second, inside)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    applied, duplicate = results["first"], results["second"]
    assert (applied.duplicate, duplicate.duplicate) == (False, True)
    assert applied.summary.counts["settled"] == 3

    # The reconciliation, the anomalies and the events happened once.
    events = _events(first)
    with first.store.read() as uow:
        assert report_keys(uow.connection) == ["camt.054:NTF-20261105-0001"]
    anomalies = _count(first, schema.bank_anomalies)
    assert anomalies == len(applied.anomalies) > 0
    assert [t for t, _ in events].count("debit.settled") == 3

    # Exactly what a second import in sequence reports, and it changes nothing either.
    again = import_report(first, REPORT, now=lambda: NOW)
    assert duplicate.to_json() | {"archive_seq": None} == again.to_json() | {"archive_seq": None}
    assert duplicate.to_json()["anomalies"] == [
        {
            "kind": "duplicate-report",
            "code": "reconcile-duplicate-report",
            "reference": "NTF-20261105-0001",
            "amount_cents": None,
            "note": "",
        }
    ]
    assert _events(first) == events
    assert _count(first, schema.bank_anomalies) == anomalies
    assert first.archive.size == 3  # every copy is archived as received, duplicates too
