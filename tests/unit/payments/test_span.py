"""Steady spans (gateway.payments.span): every month a span covers owes, computed again by
`terms_dues`, exactly the span's amount, each child its whole month at the same revalued amount
(art. 1074-4 II 5°, 6° and 9° CPC: amount per child from its date, revaluation clause, end date;
art. L. 582-1 I CSS: the revaluation in force on the month's first day). The monthly run issues
those months in SQL (docs/collection-run.md, "Steady spans"), so this is checked over generated
dossiers, months and index tables, not examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.payments.dues import ChildDue, dossier_terms, month_bounds, terms_dues
from gateway.payments.indices import IndexTable, IndexValue, month_shift, shipped_values
from gateway.payments.mandates import DebtorAccount, Mandate
from gateway.payments.profile import InForceMemo
from gateway.payments.revaluation import IndexMissing
from gateway.payments.schedule import Collectable, due_debit
from gateway.payments.span import HORIZON, Span, steady_span
from gateway.sepa.ids import payment_info_id
from gateway.services.collection import span_days
from tests.unit.payments.test_profile import DOSSIERS, PERIODS, index_tables


def _dues(terms: object, period: str, table: IndexTable) -> tuple[ChildDue, ...] | None:
    try:
        return terms_dues(terms, period, table)  # type: ignore[arg-type]
    except IndexMissing:
        return None


def _covered(span: Span) -> list[str]:
    months, month = [], span.first
    while month <= span.last:
        months.append(month)
        month = month_shift(month, 1)
    return months


@settings(max_examples=500, deadline=None)
@given(dossier=DOSSIERS, period=PERIODS, table=index_tables())
def test_every_month_of_a_span_owes_what_terms_dues_owes(
    dossier: dict[str, object], period: str, table: IndexTable
) -> None:
    terms = dossier_terms(dossier)
    dues = _dues(terms, period, table)
    if dues is None:
        return
    memo = InForceMemo()  # the run's memo, shared across months: it must not change the answer
    span = steady_span(terms, period, dues, table, memo)
    if span is None:
        return
    assert span.first == month_shift(period, 1)
    assert span.last <= month_shift(period, HORIZON)
    for month in _covered(span):
        found = _dues(terms, month, table)
        assert found is not None, month
        assert sum(d.due_cents for d in found) == span.amount_cents, month
        first, last = month_bounds(month)
        assert [(d.child, d.due_cents, d.index) for d in found] == [
            (d.child, d.due_cents, d.index) for d in dues
        ], month
        assert all(d.owed_from == first and d.owed_to == last for d in found), month


@settings(max_examples=300, deadline=None)
@given(dossier=DOSSIERS, period=PERIODS, table=index_tables())
def test_a_span_ends_only_where_the_amount_may_change(
    dossier: dict[str, object], period: str, table: IndexTable
) -> None:
    """Not too short either: the month after a span's end differs from it (another amount, a
    child starting or ending, a revaluation, a month held) or the horizon is reached."""
    terms = dossier_terms(dossier)
    dues = _dues(terms, period, table)
    if dues is None:
        return
    span = steady_span(terms, period, dues, table)
    if span is None:
        return
    after = month_shift(span.last, 1)
    if span.last == month_shift(period, HORIZON):
        return
    found = _dues(terms, after, table)
    first, last = month_bounds(after)
    same = (
        found is not None
        and [(d.child, d.due_cents, d.index) for d in found]
        == [(d.child, d.due_cents, d.index) for d in dues]
        and all(d.owed_from == first and d.owed_to == last for d in found)
    )
    # a revaluation date may fall in a month and keep the amount (the same index value): allowed
    if same:
        revaluations = [c.clause.first_date for c in terms.children if c.clause.first_date is not None]
        assert revaluations, (period, span)


SERIES = "INSEE-000000042"


def _example(end: str | None) -> dict[str, Any]:
    """One child of 150.00 € from 1 February 2025, indexed on `SERIES` (base 100) from 1 March 2026."""
    indexation = {"mode": "indexed", "index_type": SERIES, "index_value": "100",
                  "first_revaluation_date": "2026-03-01", "rounding": None}  # fmt: skip
    child = {"monthly_amount": "150.00", "effective_date": "2025-02-01", "indexation": indexation}
    return {"dossier_id": "DOS-S", "title": {"date": "2025-01-10"}, "children": [child], "end_date": end}


def test_a_whole_month_before_a_revaluation_and_an_end_date() -> None:
    """# art. L. 582-1 I CSS, art. 1074-4 II 9° CPC: 150.00 € indexed from 1 March 2026 (base
    100, value of January 2026 120 -> 180.00 €), ending 15 July 2026: December 2025 to February
    2026 owe 150.00 €; March to June 180.00 €; July is prorated (outside any span)."""
    dossier = _example("2026-07-15")
    table = IndexTable(shipped_values()).over([IndexValue(SERIES, "2026-01", Decimal(120), "test")])
    terms = dossier_terms(dossier)
    december = terms_dues(terms, "2025-11", table)
    assert steady_span(terms, "2025-11", december, table) == Span("2025-12", "2026-02", 15000)
    march = terms_dues(terms, "2026-03", table)
    assert steady_span(terms, "2026-03", march, table) == Span("2026-04", "2026-06", 18000)
    # the first month of a child (prorated) and the last month are never steady
    assert steady_span(terms, "2026-07", terms_dues(terms, "2026-07", table), table) is None
    starts = dict(dossier, children=[dict(dossier["children"][0], effective_date="2025-11-20")])
    begun = dossier_terms(starts)
    assert steady_span(begun, "2025-11", terms_dues(begun, "2025-11", table), table) is None


def test_a_revaluation_whose_index_is_missing_ends_the_span_before_it() -> None:
    """The month a revaluation needs a value nobody has is held (`index-missing`), never in a span."""
    dossier = _example(None)
    table = IndexTable(shipped_values())
    terms = dossier_terms(dossier)
    span = steady_span(terms, "2025-12", terms_dues(terms, "2025-12", table), table)
    assert span == Span("2026-01", "2026-02", 15000)
    assert date(2026, 3, 1) > month_bounds(span.last)[1]


@given(st.sampled_from(["2024-01", "2024-02", "2025-12"]))
def test_nothing_owed_has_no_span(period: str) -> None:
    terms = dossier_terms({"dossier_id": "D", "title": {}, "children": [
        {"monthly_amount": "10.00", "effective_date": "2030-01-01"}], "end_date": None})  # fmt: skip
    assert steady_span(terms, period, (), IndexTable(shipped_values())) is None


@settings(max_examples=200, deadline=None)
@given(period=PERIODS, day=st.integers(min_value=1, max_value=31), chosen=st.sampled_from([1, 10, 15]))
def test_the_sql_path_s_collection_dates_are_the_schedule_s(
    period: str, day: int | None, chosen: int
) -> None:
    """`span_days` (joined by the SQL path on the mandate's day) gives what `due_debit` gives a
    recurrent whole month: the title's day (else the debtor's) clamped, then the next TARGET day."""
    msg = "DD20261201-0123456789ABCDEF"
    for fixed in (day, None):
        found = due_debit(period, Collectable(
            dossier_id="D", monthly_total_cents=100, collection_day=fixed, effective_date=date(2000, 1, 1),
            end_date=None, mandate=Mandate("R", date(2000, 1, 1), DebtorAccount("N", "FR76", None)),
            first_collection_done=True, chosen_day=chosen,
        ))  # fmt: skip
        assert found is not None
        on, batch = span_days(period, msg)[fixed or chosen]
        assert on == found.collection_date
        assert batch == payment_info_id(msg, "RCUR", found.collection_date)
