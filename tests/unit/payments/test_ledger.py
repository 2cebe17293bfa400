"""Arrears ledger: months due/paid/unpaid, re-presentations, several children, the ASF of each month."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.payments.asf import AdvanceKind
from gateway.payments.ledger import DossierTerms, LedgerMonth, build_ledger, follow_up, legal_day
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


# --- follow-up deadlines (R. 582-8 CSS: notice within 15 days, 15 days to pay, then forced recovery) ---


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def deadlines(month: LedgerMonth) -> tuple[date, date, date, date] | None:
    f = month.follow_up
    return None if f is None else (f.failed_on, f.notice_due_by, f.payment_due_by, f.recovery_from)


def test_a_reject_starts_the_clock_on_the_day_its_report_was_imported() -> None:
    # pain.002 of 6 Nov 2026 imported at 08:30 Paris: notice by 21 Nov, payment by 6 Dec, recovery 7 Dec
    rows = [(debit("2026-11", 30000), DebitStatus(DebitState.REJECTED, reason="AM04"))]
    ledger = build_ledger("dos-1", rows, reported_at={"E-2026-11": utc(2026, 11, 6, 7, 30)})
    assert deadlines(ledger.months[0]) == (
        date(2026, 11, 6),
        date(2026, 11, 21),
        date(2026, 12, 6),
        date(2026, 12, 7),
    )
    month = ledger.to_json()["months"][0]
    assert (month["failed_on"], month["notice_due_by"], month["payment_due_by"], month["recovery_from"]) == (
        "2026-11-06",
        "2026-11-21",
        "2026-12-06",
        "2026-12-07",
    )


def test_a_return_weeks_after_settlement_counts_from_the_return() -> None:
    # settled on 6 Nov, refunded to the debtor (MD06) and reported on 10 Dec: the month is unpaid from then
    rows = [(debit("2026-11", 30000), DebitStatus(DebitState.RETURNED, 30000, 30000, "MD06"))]
    ledger = build_ledger("dos-1", rows, reported_at={"E-2026-11": utc(2026, 12, 10, 8, 0)})
    assert deadlines(ledger.months[0]) == (
        date(2026, 12, 10),
        date(2026, 12, 25),  # Christmas: calendar days, not extended to a working day
        date(2027, 1, 9),
        date(2027, 1, 10),
    )


def test_a_partly_paid_month_counts_from_the_short_credit() -> None:
    # 150.00 of 300.00 credited, report imported at 23:30 Paris on 6 Nov (22:30 UTC): still 6 Nov
    rows = [(debit("2026-11", 30000), DebitStatus(DebitState.SETTLED, 15000))]
    ledger = build_ledger("dos-1", rows, reported_at={"E-2026-11": utc(2026, 11, 6, 22, 30)})
    month = ledger.months[0]
    assert month.status == "partly-paid"
    assert deadlines(month) == (date(2026, 11, 6), date(2026, 11, 21), date(2026, 12, 6), date(2026, 12, 7))


def test_the_import_day_is_the_day_in_paris() -> None:
    assert legal_day(utc(2026, 11, 30, 23, 30)) == date(2026, 12, 1)  # CET, UTC+1
    assert legal_day(utc(2026, 6, 30, 22, 30)) == date(2026, 7, 1)  # CEST, UTC+2
    assert legal_day(utc(2026, 6, 30, 21, 59)) == date(2026, 6, 30)


def test_month_ends_year_ends_and_leap_years_in_calendar_days() -> None:
    # 15 + 15 days then the next day; February has 29 days in 2028, 28 in 2027
    assert deadlines_of(date(2028, 2, 14)) == (date(2028, 2, 29), date(2028, 3, 15), date(2028, 3, 16))
    assert deadlines_of(date(2027, 2, 14)) == (date(2027, 3, 1), date(2027, 3, 16), date(2027, 3, 17))
    assert deadlines_of(date(2026, 12, 20)) == (date(2027, 1, 4), date(2027, 1, 19), date(2027, 1, 20))
    assert deadlines_of(date(2026, 1, 31)) == (date(2026, 2, 15), date(2026, 3, 2), date(2026, 3, 3))


def deadlines_of(failed_on: date) -> tuple[date, date, date]:
    f = follow_up(failed_on)
    assert f.failed_on == failed_on
    return f.notice_due_by, f.payment_due_by, f.recovery_from


def test_a_notice_actually_sent_starts_the_payment_period() -> None:
    f = follow_up(date(2026, 11, 6), notice_sent_on=date(2026, 11, 10))
    assert (f.notice_due_by, f.payment_due_by, f.recovery_from) == (
        date(2026, 11, 21),  # the deadline to send it does not move
        date(2026, 11, 25),
        date(2026, 11, 26),
    )


def test_after_a_re_presentation_the_clock_starts_when_the_month_became_final() -> None:
    rows = [
        (debit("2026-11", 25000, "E-1"), DebitStatus(DebitState.REJECTED, reason="AM04")),
        (debit("2026-11", 25000, "E-2"), DebitStatus(DebitState.REJECTED, reason="AM04")),
    ]
    reported = {"E-1": utc(2026, 11, 6, 7, 0), "E-2": utc(2026, 11, 20, 7, 0)}
    month = build_ledger("dos-1", rows, reported_at=reported).months[0]
    assert month.follow_up is not None
    assert (month.follow_up.failed_on, month.follow_up.notice_due_by) == (
        date(2026, 11, 20),
        date(2026, 12, 5),
    )


def test_paid_pending_time_barred_and_undated_months_carry_no_deadline() -> None:
    rows = [
        (debit("2024-09", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # time-barred
        (debit("2026-09", 30000), DebitStatus(DebitState.SETTLED, 30000)),  # paid
        (debit("2026-10", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # no import time known
        (debit("2026-11", 30000), DebitStatus(DebitState.ACCEPTED)),  # pending
    ]
    at = utc(2026, 11, 6, 7, 0)
    reported = {"E-2024-09": at, "E-2026-09": at, "E-2026-11": at}
    ledger = build_ledger("dos-1", rows, as_of=date(2026, 11, 23), reported_at=reported)
    assert [m.follow_up for m in ledger.months] == [None, None, None, None]
    keys = ("failed_on", "notice_due_by", "payment_due_by", "recovery_from")
    assert all(m[key] is None for m in ledger.to_json()["months"] for key in keys)
    assert build_ledger("dos-1", rows[2:3]).months[0].follow_up is None  # no reported_at at all
