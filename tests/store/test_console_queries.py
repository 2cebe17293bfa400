"""The console's queries and audit trail on SQLite and PostgreSQL (the same answers on both)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.console import audit, queries
from gateway.devtools.pki import init_dev_pki
from gateway.transport.http.identity import Caller, Role
from tests.console.seed import NOW, Seeded, seed


@pytest.fixture
def seeded(sql_url: str, tmp_path: Path) -> Iterator[Seeded]:
    init_dev_pki(tmp_path / "pki")
    found = seed(tmp_path, tmp_path / "pki", database_url=sql_url)
    yield found
    found.close()


def test_console_queries_answer_alike_on_every_database(seeded: Seeded) -> None:
    store = seeded.gateway.store
    month = queries.title_counts(store, NOW.replace(day=1, hour=0, minute=0))
    assert month == {
        "greffe": {"accepted": 1, "rejected": 0},
        "notaire": {"accepted": 1, "rejected": 1},
        "avocat": {"accepted": 1, "rejected": 0},
    }
    [refused] = queries.refusals(store)
    assert refused.receipt_id == seeded.refused_receipt
    assert refused.codes == ["invalid-iban"]
    where = queries.RefusalFilter.parse("notaire", "invalid-iban", "2026-12-15", "2026-12-15")
    assert [r.receipt_id for r in queries.refusals(store, where)] == [seeded.refused_receipt]
    assert queries.refusals(store, queries.RefusalFilter.parse("greffe", None, None, None)) == []
    assert queries.refusals(store, before=seeded.refused_receipt) == []
    assert queries.refusal(store, seeded.refused_receipt) == refused
    counts = queries.mandate_counts(store)
    assert (counts.without_signed_mandate, counts.pending_amendments) == (1, 0)
    page = queries.dossier(store, seeded.rejected_dossier, today=date(2026, 12, 15))
    assert page is not None
    assert [m.period for m in page.ledger.months] == ["2026-12"]
    assert {e.type for e in page.events} >= {"dossier.accepted", "debit.rejected"}
    assert queries.dossier(store, "DOS-NONE", today=date(2026, 12, 15)) is None
    [emitted] = queries.files(store)
    assert emitted.statuses == {"rejected": 1, "settled": 1}
    assert queries.payment_file(store, emitted.file.message_id) == emitted.file
    reports = queries.bank_reports(store)
    assert sum(r.reasons.get("AM04", 0) for r in reports) == 1
    [subscription] = queries.delivery_counts(store)
    assert (subscription.subscription, subscription.dead) == ("back-office-1", 1)
    assert queries.dead_count(store) == 1
    assert set(queries.event_types_of(store, [1]).values()) == {"dossier.accepted"}


def test_audit_records_are_archived_and_listed(seeded: Seeded) -> None:
    caller = Caller(Role.OPERATOR, "CN=operator", "ab" * 32, "tls")
    gateway = seeded.gateway
    rows = [
        audit.record(
            gateway.store,
            gateway.archive,
            gateway.signer,
            caller=caller,
            action=f"test.{n}",
            target="t",
            outcome="done",
            details={"n": n},
            at=NOW,
        )
        for n in range(3)
    ]
    assert [r.audit_id for r in audit.page(gateway.store)] == [r.audit_id for r in reversed(rows)]
    assert [r.audit_id for r in audit.page(gateway.store, before=rows[-1].audit_id, limit=1)] == [
        rows[1].audit_id
    ]
    found = audit.last_of(gateway.store, "test.1")
    assert found is not None
    assert found.details == {"n": 1}
    assert found.at == NOW
    assert gateway.archive.entry(found.archive_seq or 0).kind == audit.ARCHIVE_KIND
    assert audit.count(gateway.store) == 3


def test_the_forecast_is_computed_off_the_request_and_kept(seeded: Seeded) -> None:
    from datetime import date as day

    from gateway.console.forecast import Forecast

    forecast = Forecast(seeded.gateway.store, clock=lambda: NOW)
    assert forecast.current() is None  # the first view starts it in the background
    forecast.wait(60)
    found = forecast.current()
    assert found is not None
    # December's file was emitted: January is next; the two signed mandates, 210 + 350 EUR,
    # on the 10th moved to Monday 11 January (TARGET business day)
    assert (found.period, found.count, found.total_cents, found.first_date) == (
        "2027-01",
        2,
        56000,
        day(2027, 1, 11),
    )
    assert forecast.current() is found  # kept while fresh
