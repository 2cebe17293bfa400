"""Arrears ledger: months due/paid/unpaid, re-presentations, several children, the ASF of each month."""

from __future__ import annotations

from datetime import date

from gateway.payments.asf import AdvanceKind
from gateway.payments.ledger import DossierTerms, build_ledger
from gateway.payments.reconcile import DebitState, DebitStatus, ExpectedDebit


def debit(period: str, cents: int, e2e: str | None = None, dossier: str = "dos-1") -> ExpectedDebit:
    return ExpectedDebit(e2e or f"E-{period}", dossier, period, cents, "MSG", "PI")


def test_months_are_ordered_and_totalled() -> None:
    ledger = build_ledger(
        "dos-1",
        [
            (debit("2026-10", 30000), DebitStatus(DebitState.SETTLED, 30000)),
            (debit("2026-09", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),
            (debit("2026-11", 30000), DebitStatus(DebitState.SETTLED, 10000)),
            (debit("2026-11", 99999, dossier="other"), DebitStatus()),  # another dossier: ignored
        ],
    )
    assert [m.period for m in ledger.months] == ["2026-09", "2026-10", "2026-11"]
    assert [m.status for m in ledger.months] == ["unpaid", "paid", "partly-paid"]
    assert (ledger.due_cents, ledger.paid_cents, ledger.arrears_cents) == (90000, 40000, 50000)
    sept = ledger.month("2026-09")
    assert (sept.reason_code, sept.action) == ("AM04", "recover")
    assert sept.advance is not None
    # September 2026: ASF 201.78 (row of 2026-04-01); total default -> the full ASF
    assert (sept.advance.kind, sept.advance.amount_cents) == (AdvanceKind.FULL, 20178)
    nov = ledger.month("2026-11")
    assert nov.advance is not None
    assert (nov.advance.kind, nov.advance.amount_cents) == (AdvanceKind.DIFFERENTIAL, 20178 - 10000)
    assert ledger.advance_cents == 20178 + 10178


def test_a_month_before_the_revaluation_uses_that_years_asf() -> None:
    ledger = build_ledger(
        "dos-1", [(debit("2026-03", 30000), DebitStatus(DebitState.RETURNED, 30000, 30000, "MD06"))]
    )
    month = ledger.months[0]
    assert month.advance is not None
    assert month.advance.amount_cents == 20018  # 200.18 € until 2026-03-31


def test_re_presentation_after_a_reject_pays_the_month() -> None:
    ledger = build_ledger(
        "dos-1",
        [
            (debit("2026-11", 25000, "E-1"), DebitStatus(DebitState.REJECTED, reason="AM04")),
            (debit("2026-11", 25000, "E-2"), DebitStatus(DebitState.SETTLED, 25000)),
        ],
    )
    month = ledger.months[0]
    assert (month.due_cents, month.paid_cents, month.status, month.advance) == (25000, 25000, "paid", None)
    assert month.debits == ("E-1", "E-2")


def test_open_debit_keeps_the_month_pending_without_advance() -> None:
    ledger = build_ledger("dos-1", [(debit("2026-11", 25000), DebitStatus(DebitState.ACCEPTED))])
    assert (ledger.months[0].status, ledger.months[0].advance, ledger.arrears_cents) == ("pending", None, 0)


def test_several_children_apply_the_triple_limit_child_by_child() -> None:
    # Two children, pensions 100 € and 250 €, ASF 201.78 € each; debtor paid 150 € of 350 €.
    terms = DossierTerms(child_pensions_cents=(10000, 25000))
    ledger = build_ledger("dos-1", [(debit("2026-11", 35000), DebitStatus(DebitState.SETTLED, 15000))], terms)
    advance = ledger.months[0].advance
    assert advance is not None
    # cap = min(100, 201.78) + min(250, 201.78) = 301.78; top-up = 301.78 - 150 = 151.78
    assert (advance.kind, advance.amount_cents) == (AdvanceKind.DIFFERENTIAL, 15178)
    # total default: the full ASF for each child, recoverable up to each pension
    ledger = build_ledger(
        "dos-1", [(debit("2026-11", 35000), DebitStatus(DebitState.REJECTED, reason="AC04"))], terms
    )
    advance = ledger.months[0].advance
    assert advance is not None
    assert (advance.amount_cents, advance.recoverable_cents) == (2 * 20178, 10000 + 20178)


def test_both_parents_failing_uses_the_higher_rate() -> None:
    terms = DossierTerms(both_parents=True)
    ledger = build_ledger(
        "dos-1", [(debit("2026-11", 40000), DebitStatus(DebitState.REJECTED, reason="MS02"))], terms
    )
    advance = ledger.months[0].advance
    assert advance is not None
    assert advance.amount_cents == 26897


def test_json_for_the_back_office() -> None:
    ledger = build_ledger(
        "dos-1", [(debit("2026-11", 30000), DebitStatus(DebitState.REJECTED, reason="AC04"))]
    )
    doc = ledger.to_json()
    assert doc["arrears_cents"] == 30000
    month = doc["months"][0]
    assert month["reason"] == {"code": "AC04", "meaning": "Account closed", "action": "fix-data"}
    assert month["asf_advance"] == {
        "kind": "full",
        "amount_cents": 20178,
        "recoverable_cents": 20178,
        "asf_cents": 20178,
    }


def test_months_older_than_24_months_are_time_barred() -> None:
    rows = [
        (debit("2024-10", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # 25 months before
        (debit("2024-11", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # 24 months: still due
    ]
    ledger = build_ledger("dos-1", rows, as_of=date(2026, 11, 23))
    assert [m.time_barred for m in ledger.months] == [True, False]
    assert (ledger.arrears_cents, ledger.time_barred_cents) == (30000, 30000)
    assert build_ledger("dos-1", rows).arrears_cents == 60000  # without a date nothing is barred
