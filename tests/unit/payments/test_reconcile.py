"""Reconciliation rules: each transition, anomalies reported, idempotence, rollback of a bad report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import SchemaViolation
from gateway.payments.reconcile import (
    DebitState,
    DebitStatus,
    ExpectedDebit,
    MemoryDebitBook,
    OutcomeKind,
    Reconciler,
    reconcile,
)
from gateway.sepa.reports import EntryRecord, ReportHeader, StatusRecord

MSG, PI = "DD20261105-0123456789ABCDEF", "PI-0123456789AB-RCUR-20261105"
A = ExpectedDebit("E2E-A", "dos-a", "2026-11", 20000, MSG, PI)
B = ExpectedDebit("E2E-B", "dos-b", "2026-11", 15000, MSG, PI)


def _book() -> MemoryDebitBook:
    return MemoryDebitBook([A, B])


def camt(report: str, *entries: EntryRecord) -> list[ReportHeader | EntryRecord]:
    return [ReportHeader("camt.054.001.08", report, "2026-11-05T18:00:00Z"), *entries]


def pain(report: str, *records: StatusRecord) -> list[ReportHeader | StatusRecord]:
    return [ReportHeader("pain.002.001.10", report, "2026-11-06T07:00:00Z"), *records]


def entry(
    e2e: str | None,
    cents: int,
    side: str = "CRDT",
    reason: str | None = None,
    ref: str = "N1",
    status: str = "BOOK",
) -> EntryRecord:
    return EntryRecord(
        "R", ref, "DBIT" if side == "DBIT" else "CRDT", False, status, date(2026, 11, 5), None, cents, "EUR",
        e2e, MSG, PI, reason, None,
    )  # fmt: skip


def status(
    level: str, e2e: str | None, sts: str, reason: str | None = None, pmtinf: str | None = PI
) -> StatusRecord:
    return StatusRecord("S", level, MSG, pmtinf, e2e, sts, reason, None, None)  # type: ignore[arg-type]


def test_credit_settles_and_return_after_settlement_returns() -> None:
    book = _book()
    outcomes, summary = reconcile(camt("C1", entry("E2E-A", 20000)), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.SETTLED]
    assert book.status("E2E-A") == DebitStatus(DebitState.SETTLED, 20000, 0, None)
    outcomes, _ = reconcile(camt("C2", entry("E2E-A", 20000, "DBIT", "MD06")), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.RETURNED]
    assert outcomes[0].reason is not None
    assert outcomes[0].reason.code == "MD06"
    assert book.status("E2E-A") == DebitStatus(DebitState.RETURNED, 20000, 20000, "MD06")
    assert summary.counts["settled"] == 1


def test_debit_entry_before_settlement_is_a_reject() -> None:
    book = _book()
    outcomes, _ = reconcile(camt("C1", entry("E2E-B", 15000, "DBIT", "AM04")), book)
    assert [(o.kind, o.after) for o in outcomes] == [(OutcomeKind.REJECTED, DebitState.REJECTED)]


def test_pain002_reject_then_credit_reports_an_unexpected_status_but_books_the_money() -> None:
    book = _book()
    reconcile(pain("S1", status("transaction", "E2E-A", "RJCT", "AM04")), book)
    outcomes, _ = reconcile(camt("C1", entry("E2E-A", 20000)), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.UNEXPECTED_STATUS, OutcomeKind.SETTLED]
    assert outcomes[0].code == "reconcile-unexpected-status"


def test_reject_after_settlement_changes_nothing_and_is_reported() -> None:
    book = _book()
    reconcile(camt("C1", entry("E2E-A", 20000)), book)
    outcomes, _ = reconcile(pain("S1", status("transaction", "E2E-A", "RJCT", "AM04")), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.UNEXPECTED_STATUS]
    assert book.status("E2E-A").state is DebitState.SETTLED


def test_batch_and_group_rejects_reach_only_the_open_debits() -> None:
    book = _book()
    reconcile(camt("C1", entry("E2E-A", 20000)), book)
    outcomes, _ = reconcile(pain("S1", status("payment", None, "RJCT", "FF01")), book)
    assert [(o.kind, o.reference) for o in outcomes] == [(OutcomeKind.REJECTED, "E2E-B")]
    book2 = _book()
    outcomes, _ = reconcile(pain("S2", status("group", None, "RJCT", "AG02", pmtinf=None)), book2)
    assert sorted(o.reference for o in outcomes if o.kind is OutcomeKind.REJECTED) == ["E2E-A", "E2E-B"]


def test_partial_acceptance_at_batch_level_does_nothing_by_itself() -> None:
    book = _book()
    outcomes, _ = reconcile(pain("S1", status("payment", None, "PART"), status("group", None, "PART")), book)
    assert outcomes == []
    outcomes, _ = reconcile(pain("S2", status("transaction", "E2E-A", "ACCP")), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.ACCEPTED]
    assert book.status("E2E-A").state is DebitState.ACCEPTED


def test_unknown_references_and_mismatches_are_reported() -> None:
    book = _book()
    outcomes, _ = reconcile(
        camt("C1", entry("NOT-OURS", 100), entry(None, 100, ref="N2"), entry("E2E-B", 14999, ref="N3")), book
    )
    assert [o.kind for o in outcomes] == [
        OutcomeKind.UNKNOWN_REFERENCE,
        OutcomeKind.AMOUNT_MISMATCH,  # no EndToEndId: read as a batch of PI, which does not add up
        OutcomeKind.AMOUNT_MISMATCH,
        OutcomeKind.SETTLED,
    ]
    bare = EntryRecord(
        "R", "N9", "DBIT", False, "BOOK", None, None, 500, "EUR", None, None, None, "AM04", None
    )
    outcomes, _ = reconcile(camt("C9", bare), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.UNKNOWN_REFERENCE]
    assert book.status("E2E-B").collected_cents == 14999
    outcomes, _ = reconcile(pain("S1", status("transaction", "NOT-OURS", "RJCT", "AC01")), book)
    assert [o.code for o in outcomes] == ["reconcile-unknown-reference"]


def test_pending_entries_change_nothing() -> None:
    book = _book()
    outcomes, _ = reconcile(camt("C1", entry("E2E-A", 20000, status="PDNG")), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.PENDING]
    assert book.status("E2E-A").state is DebitState.PENDING


def test_batch_entry_without_details_settles_the_batch_when_it_adds_up() -> None:
    batch = EntryRecord("R", "N1", "CRDT", False, "BOOK", None, None, 35000, "EUR", None, MSG, PI, None, None)
    book = _book()
    outcomes, _ = reconcile(camt("C1", batch), book)
    assert sorted(o.reference for o in outcomes if o.kind is OutcomeKind.SETTLED) == ["E2E-A", "E2E-B"]
    short = EntryRecord("R", "N1", "CRDT", False, "BOOK", None, None, 30000, "EUR", None, MSG, PI, None, None)
    book = _book()
    outcomes, _ = reconcile(camt("C1", short), book)
    assert [o.kind for o in outcomes] == [OutcomeKind.AMOUNT_MISMATCH]
    assert book.status("E2E-A").state is DebitState.PENDING


def test_same_report_twice_changes_nothing() -> None:
    book = _book()
    report = camt("C1", entry("E2E-A", 20000), entry("E2E-B", 15000, "DBIT", "AM04", ref="N2"))
    reconcile(report, book)
    before = dict(book.statuses)
    outcomes, _ = reconcile(report, book)
    assert [o.kind for o in outcomes] == [OutcomeKind.DUPLICATE_REPORT]
    assert book.statuses == before


def test_a_report_failing_halfway_leaves_no_trace() -> None:
    book = _book()

    def broken() -> list[ReportHeader | EntryRecord]:
        return camt("C1", entry("E2E-A", 20000))

    def stream() -> Iterator[ReportHeader | EntryRecord]:
        yield from broken()
        raise SchemaViolation("invalid at line 40")

    with pytest.raises(SchemaViolation), book.transaction():
        list(Reconciler(book).run(stream()))
    assert book.status("E2E-A").state is DebitState.PENDING
    assert not book.report_seen("camt.054:C1")


facts = st.lists(
    st.tuples(
        st.sampled_from(["E2E-A", "E2E-B", "X"]),
        st.sampled_from(["credit", "debit", "reject", "accept"]),
        st.sampled_from([None, "AM04", "MD06"]),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(first=facts, second=facts)
def test_replaying_any_reports_is_idempotent(
    first: list[tuple[str, str, str | None]], second: list[tuple[str, str, str | None]]
) -> None:
    def report(name: str, items: list[tuple[str, str, str | None]]) -> list[ReportHeader | EntryRecord]:
        rows = []
        for i, (e2e, what, reason) in enumerate(items):
            amount = 20000 if e2e == "E2E-A" else 15000
            if what in ("credit", "debit"):
                rows.append(entry(e2e, amount, "DBIT" if what == "debit" else "CRDT", reason, ref=f"N{i}"))
        return camt(name, *rows)

    def statuses(name: str, items: list[tuple[str, str, str | None]]) -> list[ReportHeader | StatusRecord]:
        chosen = [
            (e, "RJCT" if w == "reject" else "ACCP", r) for e, w, r in items if w in ("reject", "accept")
        ]
        return pain(name, *(status("transaction", e, sts, r) for e, sts, r in chosen))

    book = _book()
    for name, items in (("1", first), ("2", second)):
        reconcile(report("C" + name, items), book)
        reconcile(statuses("S" + name, items), book)
    snapshot = dict(book.statuses)
    for name, items in (("1", first), ("2", second)):
        out1, _ = reconcile(report("C" + name, items), book)
        out2, _ = reconcile(statuses("S" + name, items), book)
        assert {o.kind for o in out1 + out2} == {OutcomeKind.DUPLICATE_REPORT}
    assert book.statuses == snapshot
    for e2e, current in book.statuses.items():
        # money never goes negative, and a returned debit was settled first
        assert current.paid_cents >= 0
        assert current.state is not DebitState.RETURNED or current.collected_cents > 0
        assert e2e in ("E2E-A", "E2E-B")
