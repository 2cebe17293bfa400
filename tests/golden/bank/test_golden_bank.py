"""Golden bank reports: every file passes the real xmllint against its official XSD, and replaying them
in order gives the expected ledger of each dossier (rejects, returns, partial files, duplicates,
unknown references, amount mismatches)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.payments.ledger import Ledger, ledgers
from gateway.payments.reconcile import (
    DebitState,
    ExpectedDebit,
    MemoryDebitBook,
    Outcome,
    OutcomeKind,
    reconcile,
)
from gateway.sepa.reports import detect_message, read_report

HERE = Path(__file__).parent
SCHEMAS = HERE.parents[2] / "schemas" / "iso20022"
FILES = sorted(HERE.glob("*.xml"))
# The order a bank would send them in: status reports the next morning, then bookings.
REPLAY = [
    "pain002_v10_rejects.xml",
    "pain002_v03_reject.xml",
    "camt054_v08_credits.xml",
    "camt054_v08_returns.xml",
    "camt054_v02_partial.xml",
]
ASF_2026 = 20199  # 201.99 € gross, in force since 2026-04-01 (gateway.payments.amounts)
# When the gateway imports each report (the ledger's deadlines count from it): the morning after the
# bank created it, except the status reports, fetched within the hour.
IMPORTED = {
    "pain002_v10_rejects.xml": datetime(2026, 11, 6, 6, 30, tzinfo=UTC),  # created 07:12 Paris
    "pain002_v03_reject.xml": datetime(2026, 11, 6, 9, 0, tzinfo=UTC),  # created 09:30, 10:00 Paris
    "camt054_v08_credits.xml": datetime(2026, 11, 5, 23, 30, tzinfo=UTC),  # 00:30 Paris on 6 Nov
    "camt054_v08_returns.xml": datetime(2026, 11, 13, 6, 0, tzinfo=UTC),  # created 12 Nov 18:00
    "camt054_v02_partial.xml": datetime(2026, 11, 7, 6, 0, tzinfo=UTC),  # created 6 Nov 18:00
}


def _book() -> MemoryDebitBook:
    data = json.loads((HERE / "debits.json").read_text())
    return MemoryDebitBook(ExpectedDebit(**d) for d in data["debits"])


def _replay(book: MemoryDebitBook, names: list[str]) -> dict[str, list[Outcome]]:
    return {name: reconcile(read_report(HERE / name), book)[0] for name in names}


def _ledgers(book: MemoryDebitBook, reported_at: dict[str, datetime] | None = None) -> dict[str, Ledger]:
    return ledgers(((debit, book.status(e2e)) for e2e, debit in book.debits.items()), reported_at=reported_at)


def _reported_at(out: dict[str, list[Outcome]]) -> dict[str, datetime]:
    """EndToEndId -> import time of the report that last changed the debit, as the SQL book records
    it (`debit_progress.updated_at`): an outcome changes the debit when its state moves."""
    return {
        o.debit.end_to_end_id: IMPORTED[name]
        for name, outcomes in out.items()
        for o in outcomes
        if o.debit is not None and o.after is not None and o.after is not o.before
    }


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_golden_report_passes_xmllint_with_its_official_xsd(path: Path) -> None:
    message = detect_message(path)
    result = subprocess.run(
        ["xmllint", "--noout", "--schema", str(SCHEMAS / f"{message}.xsd"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"{path} validates" in result.stderr


def test_all_four_message_versions_are_covered() -> None:
    assert {detect_message(p) for p in FILES} == {
        "pain.002.001.10",
        "pain.002.001.03",
        "camt.054.001.08",
        "camt.054.001.02",
    }


def test_replay_gives_the_expected_outcomes() -> None:
    book = _book()
    out = _replay(book, REPLAY)
    kinds = {name: [o.kind.value for o in outcomes] for name, outcomes in out.items()}
    assert kinds["pain002_v10_rejects.xml"] == ["rejected", "rejected", "unknown-reference"]
    assert [o.reason.code for o in out["pain002_v10_rejects.xml"] if o.reason] == ["AM04", "AC04", "MS03"]
    assert kinds["pain002_v03_reject.xml"] == ["rejected"]
    assert kinds["camt054_v08_credits.xml"] == [
        "settled",
        "amount-mismatch",  # dos-0005: 120.00 collected for 300.00 instructed, reported...
        "settled",  # ...and settled with what actually arrived
        "settled",
        "unknown-reference",  # a credit for an EndToEndId we never sent
        "pending",  # a PDNG entry: nothing booked yet
    ]
    assert kinds["camt054_v08_returns.xml"] == ["returned", "duplicate"]  # AM04 again for dos-0002
    assert kinds["camt054_v02_partial.xml"] == ["settled", "amount-mismatch", "settled", "duplicate"]
    anomalies = [o for outcomes in out.values() for o in outcomes if o.code is not None]
    assert {o.code for o in anomalies} == {
        "reconcile-unknown-reference",
        "reconcile-amount-mismatch",
        "reconcile-duplicate",
    }


def test_replay_gives_the_expected_ledgers() -> None:
    book = _book()
    reported = _reported_at(_replay(book, REPLAY))
    got = {
        dossier: (
            m.status,
            m.due_cents,
            m.paid_cents,
            m.unpaid_cents,
            m.reason_code,
            None if m.status == "pending" else (m.complement_cents, m.recoverable_cents),
        )
        for dossier, ledger in _ledgers(book).items()
        for m in ledger.months
    }
    # One child per dossier here (no dues given: the debit is the child's due). L. 523-1 I 4° CSS:
    # complement = ASF - paid when paid < ASF; recoverable = min(complement, due - paid).
    assert got == {
        "dos-0001": ("paid", 15000, 15000, 0, None, (ASF_2026 - 15000, 0)),  # small pension paid in full
        "dos-0002": ("unpaid", 23000, 0, 23000, "AM04", (ASF_2026, ASF_2026)),
        "dos-0003": ("unpaid", 32050, 0, 32050, "AC04", (ASF_2026, ASF_2026)),
        "dos-0004": ("unpaid", 18000, 0, 18000, "MD07", (ASF_2026, 18000)),  # not above the pension
        # partial payment: 201.99 - 120.00 = 81.99 €, all of it unpaid pension
        "dos-0005": ("partly-paid", 30000, 12000, 18000, None, (ASF_2026 - 12000, ASF_2026 - 12000)),
        "dos-0006": ("unpaid", 25000, 0, 25000, "MD06", (ASF_2026, ASF_2026)),  # refund after settlement
        "dos-0007": ("paid", 9000, 9000, 0, None, (ASF_2026 - 9000, 0)),
        "dos-0008": ("pending", 20000, 0, 20000, None, None),  # no final word from the bank yet
        # 190.00 of 200.00: the complement would be 11.99 €, under the 15 € threshold (CAF practice)
        "dos-0009": ("partly-paid", 20000, 19000, 1000, None, (0, 0)),
    }
    follow_ups = {
        dossier: None if m.follow_up is None else m.follow_up.to_json()
        for dossier, ledger in _ledgers(book, reported).items()
        for m in ledger.months
    }

    def dates(failed_on: str, notice: str, payment: str, recovery: str) -> dict[str, str]:
        return {
            "failed_on": failed_on,
            "notice_due_by": notice,
            "payment_due_by": payment,
            "recovery_from": recovery,
        }

    # rejected by the pain.002 of 6 Nov (AM04 again in the returns of 13 Nov: a duplicate, no change)
    from_6_nov = dates("2026-11-06", "2026-11-21", "2026-12-06", "2026-12-07")
    assert follow_ups == {
        "dos-0001": None,
        "dos-0002": from_6_nov,
        "dos-0003": from_6_nov,
        "dos-0004": from_6_nov,  # MD07, pain.002.001.03 imported at 10:00 Paris
        "dos-0005": from_6_nov,  # the short credit imported at 00:30 Paris on 6 Nov
        "dos-0006": dates("2026-11-13", "2026-11-28", "2026-12-13", "2026-12-14"),  # MD06 after settlement
        "dos-0007": None,
        "dos-0008": None,  # pending
        "dos-0009": dates(
            "2026-11-07", "2026-11-22", "2026-12-07", "2026-12-08"
        ),  # short, in the partial file
    }
    ledger = _ledgers(book)["dos-0004"]
    month = ledger.month("2026-11")
    assert month.action == "fix-data"  # MD07, debtor deceased: the mandate must be dealt with
    assert month.recoverable_cents == 18000  # not above the unpaid pension
    assert _ledgers(book)["dos-0002"].month("2026-11").action == "recover"


def test_each_debit_ends_in_one_state_with_its_reason() -> None:
    book = _book()
    _replay(book, REPLAY)
    states = {book.debits[e2e].dossier_id: (s.state, s.reason) for e2e, s in book.statuses.items()}
    assert states["dos-0002"] == (DebitState.REJECTED, "AM04")
    assert states["dos-0006"] == (DebitState.RETURNED, "MD06")
    assert states["dos-0001"] == (DebitState.SETTLED, None)
    assert "dos-0008" not in states  # only a PDNG entry: still pending


def test_processing_everything_twice_changes_nothing() -> None:
    book = _book()
    _replay(book, REPLAY)
    before = (dict(book.statuses), {d: lg.to_json() for d, lg in _ledgers(book).items()})
    again = _replay(book, REPLAY)
    assert all([o.kind for o in outcomes] == [OutcomeKind.DUPLICATE_REPORT] for outcomes in again.values())
    after = (dict(book.statuses), {d: lg.to_json() for d, lg in _ledgers(book).items()})
    assert after == before


def test_order_of_bookings_does_not_change_the_final_ledger() -> None:
    # The same facts in another order (bookings before the status reports) end the same.
    first, second = _book(), _book()
    _replay(first, REPLAY)
    _replay(second, [REPLAY[2], REPLAY[4], REPLAY[0], REPLAY[1], REPLAY[3]])
    assert {d: lg.to_json() for d, lg in _ledgers(first).items()} == {
        d: lg.to_json() for d, lg in _ledgers(second).items()
    }


def test_a_whole_file_rejected_rejects_every_debit_of_it() -> None:
    book = _book()
    outcomes = _replay(book, ["pain002_v10_file_rejected.xml"])["pain002_v10_file_rejected.xml"]
    assert [o.kind.value for o in outcomes] == ["rejected"] * 9
    assert {o.reason.code for o in outcomes if o.reason} == {"FF01"}
    months = [lg.months[0] for lg in _ledgers(book).values()]
    assert {(m.status, m.reason_code, m.action) for m in months} == {("unpaid", "FF01", "retry")}
    assert all(m.complement_cents == ASF_2026 for m in months)  # total default: the full ASF


def test_batch_booking_without_details_settles_its_batch() -> None:
    book = _book()
    outcomes = _replay(book, ["camt054_v08_batch_booking.xml"])["camt054_v08_batch_booking.xml"]
    assert [o.kind.value for o in outcomes] == ["settled"] * 3  # the FRST batch: dos-0004, 0007, 0009
    paid = {d: lg.months[0].status for d, lg in _ledgers(book).items()}
    assert [d for d, status in sorted(paid.items()) if status == "paid"] == [
        "dos-0004",
        "dos-0007",
        "dos-0009",
    ]
    # a detailed report of the same batch afterwards only repeats what is known
    again = _replay(book, ["pain002_v03_reject.xml"])["pain002_v03_reject.xml"]
    assert [o.kind.value for o in again] == ["unexpected-status"]  # a reject after settlement: reported
