"""The ledger per child and month: dues from the dossier, payment shared pro rata, one ASF per child
(L. 523-1 I 4° CSS), recoverable parts, prescription after five years (art. 2224 C. civ.), follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.payments.amounts import derive_row, shipped_table
from gateway.payments.ledger import LedgerMonth, build_ledger, dossier_dues, follow_up, legal_day
from gateway.payments.reconcile import DebitState, DebitStatus, ExpectedDebit

ASF = 20199  # 201.99 € gross from 2026-04-01
ASF_NET = 20098


def debit(period: str, cents: int, e2e: str | None = None, dossier: str = "dos-1") -> ExpectedDebit:
    return ExpectedDebit(e2e or f"E-{period}", dossier, period, cents, "MSG", "PI")


def dossier(*children: tuple[str, str], end_date: str | None = None) -> dict[str, Any]:
    """A canonical dossier's money part: (monthly amount, effective date) per child."""
    return {
        "end_date": end_date,
        "children": [{"monthly_amount": amount, "effective_date": since} for amount, since in children],
    }


TWO = dossier(("180.00", "2024-01-01"), ("150.00", "2024-01-01"))


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
    # L. 523-1 I 4° CSS: total default -> the full ASF; partial -> ASF - paid
    assert (sept.complement_cents, sept.recoverable_cents) == (ASF, ASF)
    nov = ledger.month("2026-11")
    assert (nov.complement_cents, nov.recoverable_cents) == (ASF - 10000, ASF - 10000)
    assert ledger.complement_cents == ASF + ASF - 10000


def test_two_children_in_total_default_get_two_asf_recoverable_up_to_the_unpaid_pension() -> None:
    # L. 523-1 I 4° CSS: one ASF per child, never per dossier; recoverable = min(ASF, unpaid) per child
    rows = [(debit("2026-11", 33000), DebitStatus(DebitState.REJECTED, reason="AM04"))]
    ledger = build_ledger("dos-1", rows, dossier_dues(TWO))
    month = ledger.months[0]
    lines = [
        (c.child, c.due_cents, c.paid_cents, c.complement_cents, c.recoverable_cents) for c in month.children
    ]
    assert lines == [(0, 18000, 0, ASF, 18000), (1, 15000, 0, ASF, 15000)]
    assert (month.complement_cents, month.complement_net_cents) == (2 * ASF, 2 * ASF_NET)
    assert month.recoverable_cents == month.unpaid_cents == 33000  # recoverable = the unpaid pension


def test_a_dossier_payment_is_shared_pro_rata_of_the_childrens_dues() -> None:
    # art. 1342-10 al. 2 C. civ.: 50 € on 180 + 150 € due -> 27.27 + 22.73 (largest remainder)
    rows = [(debit("2026-11", 33000), DebitStatus(DebitState.SETTLED, 5000))]
    month = build_ledger("dos-1", rows, dossier_dues(TWO)).months[0]
    assert [c.paid_cents for c in month.children] == [2727, 2273]
    assert [c.complement_cents for c in month.children] == [ASF - 2727, ASF - 2273]
    assert [c.recoverable_cents for c in month.children] == [18000 - 2727, 15000 - 2273]


def test_small_pensions_paid_in_full_are_topped_up_child_by_child() -> None:
    # L. 523-1 I 4° CSS: 120 € paid in full -> ASF - 120 for that child, nothing recoverable
    rows = [(debit("2026-11", 24000), DebitStatus(DebitState.SETTLED, 24000))]
    small = dossier(("120.00", "2024-01-01"), ("120.00", "2024-01-01"))
    month = build_ledger("dos-1", rows, dossier_dues(small)).months[0]
    assert month.status == "paid"
    assert [(c.complement_cents, c.recoverable_cents) for c in month.children] == [(ASF - 12000, 0)] * 2


def test_a_second_child_starting_a_year_later_counts_from_its_own_date() -> None:
    # art. 1074-4 II 5° CPC: each child's amount from its own effective date
    later = dossier(("180.00", "2025-11-01"), ("150.00", "2026-11-01"))
    rows = [
        (debit("2025-11", 18000), DebitStatus(DebitState.REJECTED, reason="AM04")),
        (debit("2026-11", 33000), DebitStatus(DebitState.REJECTED, reason="AM04")),
    ]
    ledger = build_ledger("dos-1", rows, dossier_dues(later))
    assert [len(m.children) for m in ledger.months] == [1, 2]
    assert ledger.month("2025-11").complement_cents == 20018  # one ASF, 200.18 € (row of 2025-04-01)
    assert ledger.month("2026-11").complement_cents == 2 * ASF
    assert [c.to_json()["child"] for c in ledger.children()] == [0, 1]
    assert [c.recoverable_cents for c in ledger.children()] == [18000 + 18000, 15000]


def test_a_month_before_the_revaluation_uses_that_years_asf() -> None:
    ledger = build_ledger(
        "dos-1", [(debit("2026-03", 30000), DebitStatus(DebitState.RETURNED, 30000, 30000, "MD06"))]
    )
    assert ledger.months[0].complement_cents == 20018  # 200.18 € until 2026-03-31


def test_a_month_past_the_table_says_so_and_reuses_no_amount() -> None:
    # the 2026 row covers until 2027-03-31: April 2027 has no published ASF yet
    rows = [(debit("2027-04", 30000), DebitStatus(DebitState.REJECTED, reason="AM04"))]
    month = build_ledger("dos-1", rows).months[0]
    assert month.asf_unavailable is not None
    assert month.asf_unavailable[0] == "amounts-not-published"
    assert (month.unpaid_cents, month.complement_cents) == (30000, 0)
    assert month.to_json()["children"][0]["asf_complement_cents"] is None
    # once an operator adds the 2027 row, the month gets its ASF
    table = shipped_table().with_rows([derive_row(date(2027, 4, 1), 48300, "2027 revaluation")])
    assert build_ledger("dos-1", rows, table=table).months[0].complement_cents == 20383


def test_re_presentation_after_a_reject_pays_the_month() -> None:
    ledger = build_ledger(
        "dos-1",
        [
            (debit("2026-11", 25000, "E-1"), DebitStatus(DebitState.REJECTED, reason="AM04")),
            (debit("2026-11", 25000, "E-2"), DebitStatus(DebitState.SETTLED, 25000)),
        ],
    )
    month = ledger.months[0]
    assert (month.due_cents, month.paid_cents, month.status, month.complement_cents) == (
        25000,
        25000,
        "paid",
        0,
    )
    assert month.debits == ("E-1", "E-2")


def test_open_debit_keeps_the_month_pending_without_asf() -> None:
    ledger = build_ledger("dos-1", [(debit("2026-11", 25000), DebitStatus(DebitState.ACCEPTED))])
    month = ledger.months[0]
    assert (month.status, month.children[0].asf, ledger.arrears_cents) == ("pending", None, 0)


def test_both_parents_failing_uses_the_higher_rate() -> None:
    ledger = build_ledger(
        "dos-1",
        [(debit("2026-11", 40000), DebitStatus(DebitState.REJECTED, reason="MS02"))],
        both_parents=True,
    )
    assert ledger.months[0].complement_cents == 26924  # R. 523-7 1° CSS


def test_json_for_the_back_office() -> None:
    rows = [(debit("2026-11", 33000), DebitStatus(DebitState.REJECTED, reason="AC04"))]
    doc = build_ledger("dos-1", rows, dossier_dues(TWO), as_of=date(2026, 11, 23)).to_json()
    assert (doc["as_of"], doc["arrears_cents"], doc["asf_complement_cents"], doc["recoverable_cents"]) == (
        "2026-11-23",
        33000,
        2 * ASF,
        33000,
    )
    assert doc["children"][1] == {
        "child": 1,
        "due_cents": 15000,
        "paid_cents": 0,
        "unpaid_cents": 15000,
        "asf_complement_cents": ASF,
        "asf_complement_net_cents": ASF_NET,
        "recoverable_cents": 15000,
    }
    month = doc["months"][0]
    assert month["reason"] == {"code": "AC04", "meaning": "Account closed", "action": "fix-data"}
    assert month["children"][0] == {
        "child": 0,
        "due_cents": 18000,
        "paid_cents": 0,
        "unpaid_cents": 18000,
        "asf_cents": ASF,
        "asf_complement_cents": ASF,
        "asf_complement_net_cents": ASF_NET,
        "recoverable_cents": 18000,
        "below_threshold": False,
    }
    assert (month["due_on"], month["prescription_date"], month["prescribed"]) == (
        "2026-11-01",
        "2031-11-01",
        False,
    )


# --- prescription (art. 2224 C. civ.: five years; not the 24 months of L. 581-2 CSS) ---


def test_a_month_unpaid_30_months_ago_is_still_owed() -> None:
    # art. 2224 C. civ.: five years. The 24 months of L. 581-2 CSS bound arrears from before the
    # intermediation, they are no time bar on months the fund collects itself.
    rows = [(debit("2024-05", 30000), DebitStatus(DebitState.REJECTED, reason="AM04"))]
    ledger = build_ledger("dos-1", rows, as_of=date(2026, 11, 23), due_on={"E-2024-05": date(2024, 5, 10)})
    month = ledger.months[0]
    assert (month.prescribed, month.prescription_date) == (False, date(2029, 5, 10))
    assert (ledger.arrears_cents, ledger.prescribed_cents) == (30000, 0)
    assert ledger.recoverable_cents == 19684  # the ASF of 2024 (196.84 €), still claimable


def test_a_month_is_prescribed_the_day_after_five_years() -> None:
    # art. 2224, 2228, 2229 C. civ.: acquired when the last day ends
    rows = [(debit("2021-11", 30000), DebitStatus(DebitState.REJECTED, reason="AM04"))]
    due_on = {"E-2021-11": date(2021, 11, 10)}
    still = build_ledger("dos-1", rows, as_of=date(2026, 11, 10), due_on=due_on)
    barred = build_ledger("dos-1", rows, as_of=date(2026, 11, 11), due_on=due_on)
    assert (still.months[0].prescribed, still.arrears_cents) == (False, 30000)
    assert (barred.months[0].prescribed, barred.arrears_cents, barred.prescribed_cents) == (True, 0, 30000)
    assert build_ledger("dos-1", rows).arrears_cents == 30000  # without a date nothing is prescribed


def test_the_month_falls_due_on_its_first_debits_collection_date() -> None:
    rows = [
        (debit("2026-11", 25000, "E-1"), DebitStatus(DebitState.REJECTED, reason="AM04")),
        (debit("2026-11", 25000, "E-2"), DebitStatus(DebitState.REJECTED, reason="AM04")),
    ]
    due_on = {"E-1": date(2026, 11, 10), "E-2": date(2026, 11, 24)}  # E-2 re-presents it
    month = build_ledger("dos-1", rows, due_on=due_on).months[0]
    assert (month.due_on, month.prescription_date) == (date(2026, 11, 10), date(2031, 11, 10))


# --- the property: per child, never negative, recoverable never above the unpaid pension ---

_states = st.sampled_from([DebitState.SETTLED, DebitState.REJECTED, DebitState.RETURNED, DebitState.ACCEPTED])


@st.composite
def _ledger_inputs(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[ExpectedDebit, DebitStatus]]]:
    amounts = draw(st.lists(st.integers(min_value=1, max_value=200_000), min_size=1, max_size=6))
    children = tuple((f"{a // 100}.{a % 100:02d}", "2024-04-01") for a in amounts)
    rows = []
    for index, period in enumerate(
        draw(st.lists(st.sampled_from(PERIODS), min_size=1, max_size=5, unique=True))
    ):
        state = draw(_states)
        collected = draw(st.integers(min_value=0, max_value=2 * sum(amounts)))
        returned = draw(st.integers(min_value=0, max_value=collected)) if state is DebitState.RETURNED else 0
        status = DebitStatus(
            state, collected if state in (DebitState.SETTLED, DebitState.RETURNED) else 0, returned
        )
        rows.append((debit(period, sum(amounts), f"E-{index}"), status))
    return dossier(*children), rows


PERIODS = ["2024-05", "2025-01", "2025-06", "2026-02", "2026-11", "2027-01"]


@given(_ledger_inputs())
def test_ledger_property(inputs: tuple[dict[str, Any], list[tuple[ExpectedDebit, DebitStatus]]]) -> None:
    # L. 523-1 I 4° CSS: one ASF per child; complements and recoverable parts never negative; the
    # recoverable part never above the child's unpaid pension; payments shared exactly
    document, rows = inputs
    ledger = build_ledger("dos-1", rows, dossier_dues(document), as_of=date(2026, 12, 1))
    for month in ledger.months:
        assert len(month.children) == len(document["children"])  # one line (one ASF) per child
        assert sum(c.paid_cents for c in month.children) == month.paid_cents
        for child in month.children:
            assert child.complement_cents >= 0
            assert child.complement_net_cents >= 0
            assert 0 <= child.recoverable_cents <= child.unpaid_cents
            assert child.recoverable_cents <= child.complement_cents
            if child.asf is not None:
                assert child.complement_cents <= child.asf.asf_cents
        assert 0 <= month.recoverable_cents <= month.unpaid_cents
    assert 0 <= ledger.recoverable_cents <= ledger.arrears_cents


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


def test_paid_pending_prescribed_and_undated_months_carry_no_deadline() -> None:
    rows = [
        (debit("2021-09", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # prescribed
        (debit("2026-09", 30000), DebitStatus(DebitState.SETTLED, 30000)),  # paid
        (debit("2026-10", 30000), DebitStatus(DebitState.REJECTED, reason="AM04")),  # no import time known
        (debit("2026-11", 30000), DebitStatus(DebitState.ACCEPTED)),  # pending
    ]
    at = utc(2026, 11, 6, 7, 0)
    reported = {"E-2021-09": at, "E-2026-09": at, "E-2026-11": at}
    ledger = build_ledger("dos-1", rows, as_of=date(2026, 11, 23), reported_at=reported)
    assert [m.follow_up for m in ledger.months] == [None, None, None, None]
    keys = ("failed_on", "notice_due_by", "payment_due_by", "recovery_from")
    assert all(m[key] is None for m in ledger.to_json()["months"] for key in keys)
    assert build_ledger("dos-1", rows[2:3]).months[0].follow_up is None  # no reported_at at all
