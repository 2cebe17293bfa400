"""Collection schedule: day, TARGET adjustment, FRST/RCUR, dates, idempotency per month."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from gateway.payments.mandates import DebtorAccount, new_mandate
from gateway.payments.schedule import Collectable, due_debit, due_debits, scheduled_day
from gateway.sepa.ids import end_to_end_id
from gateway.sepa.model import Amendment, SequenceType
from gateway.sepa.pain008 import write_pain008
from tests.unit.sepa.samples import DEBIT_HEADER, FUND, xmllint

ACCOUNT = DebtorAccount("Jean Martin", "FR7630006000011234567890189", "AGRIFRPP")


def collectable(*dossier: str, **changes: object) -> Collectable:
    dossier_id = dossier[0] if dossier else "D-1"
    values: dict[str, object] = {
        "dossier_id": dossier_id,
        "monthly_total_cents": 15_000,
        "collection_day": None,
        "effective_date": date(2026, 1, 1),
        "end_date": None,
        "mandate": new_mandate(dossier_id, date(2025, 12, 15), ACCOUNT),
        "first_collection_done": True,
    }
    values.update(changes)
    return Collectable(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("period", "changes", "expected"),
    [
        ("2026-11", {"chosen_day": 10}, date(2026, 11, 10)),  # Tuesday
        ("2026-11", {"chosen_day": 15}, date(2026, 11, 16)),  # Sunday -> Monday
        ("2026-11", {"chosen_day": 1}, date(2026, 11, 2)),  # Sunday -> Monday
        ("2026-05", {"chosen_day": 1}, date(2026, 5, 4)),  # 1 May (TARGET closed), Friday
        ("2026-04", {"collection_day": 3}, date(2026, 4, 7)),  # Good Friday + Easter Monday
        ("2026-12", {"collection_day": 25}, date(2026, 12, 28)),  # 25-26 Dec + Sunday
        ("2026-11", {"collection_day": 31}, date(2026, 11, 30)),  # clamped to the month
        ("2027-02", {"collection_day": 30}, date(2027, 3, 1)),  # 28 Feb = Sunday -> 1 March
        ("2026-11", {"collection_day": 5, "chosen_day": 15}, date(2026, 11, 5)),  # title wins
    ],
)
def test_collection_date(period: str, changes: dict[str, object], expected: date) -> None:
    debit = due_debit(period, collectable(**changes))
    assert debit is not None
    assert debit.collection_date == expected


def test_first_collection_is_frst_then_rcur() -> None:
    first = due_debit("2026-11", collectable(first_collection_done=False))
    later = due_debit("2026-12", collectable(first_collection_done=True))
    assert first is not None
    assert first.sequence is SequenceType.FRST
    assert later is not None
    assert later.sequence is SequenceType.RCUR


def test_nothing_before_the_effective_date() -> None:
    item = collectable(effective_date=date(2026, 11, 11), chosen_day=10)
    assert due_debit("2026-11", item) is None
    assert due_debit("2026-12", item) is not None


def test_nothing_after_the_end_date() -> None:
    item = collectable(end_date=date(2026, 11, 14), chosen_day=15)
    assert due_debit("2026-11", item) is None
    assert due_debit("2026-10", item) is not None


def test_end_date_compares_the_nominal_day() -> None:
    # due on Sunday 15 Nov (end date), collected Monday 16: the month is still owed
    item = collectable(end_date=date(2026, 11, 15), chosen_day=15)
    debit = due_debit("2026-11", item)
    assert debit is not None
    assert debit.collection_date == date(2026, 11, 16)


def test_nothing_owed_nothing_collected() -> None:
    assert due_debit("2026-11", collectable(monthly_total_cents=0)) is None


def test_rerun_of_the_same_period_issues_nothing_new() -> None:
    items = [collectable(f"D-{i}") for i in range(5)]
    first = list(due_debits("2026-11", items))
    assert len(first) == 5
    issued = {d.key for d in first}
    assert list(due_debits("2026-11", items, issued)) == []
    # a new dossier added since: only it is issued
    more = [*items, collectable("D-new")]
    assert [d.dossier_id for d in due_debits("2026-11", more, issued)] == ["D-new"]
    # and the next month is due again for all
    assert len(list(due_debits("2026-12", more, issued))) == 6


def test_a_dossier_listed_twice_is_debited_once() -> None:
    assert len(list(due_debits("2026-11", [collectable("D-1"), collectable("D-1")]))) == 1


def test_end_to_end_id_is_the_idempotency_key() -> None:
    debit = due_debit("2026-11", collectable("D-9"))
    assert debit is not None
    assert debit.key == ("D-9", "2026-11")
    assert debit.end_to_end_id == end_to_end_id("D-9", "DD", "2026-11")


def test_invalid_days_are_refused() -> None:
    with pytest.raises(ValueError, match="chosen_day"):
        collectable(chosen_day=5)
    with pytest.raises(ValueError, match="collection_day"):
        collectable(collection_day=32)
    assert scheduled_day("2026-02", collectable(collection_day=30)) == date(2026, 2, 28)


def test_schedule_feeds_the_writer(tmp_path: Path) -> None:
    items = [
        collectable("D-1", first_collection_done=False),
        collectable("D-2", chosen_day=15),
        collectable(
            "D-3",
            amendment=Amendment(original_debtor_iban="FR1420041010050500013M02606"),
        ),
    ]
    due = list(due_debits("2026-11", items))
    out = tmp_path / "dd.xml"
    summary = write_pain008(
        out, DEBIT_HEADER, FUND, lambda: (d.to_direct_debit("Pension 2026-11") for d in due)
    )
    assert [(b.sequence, b.day, b.count) for b in summary.batches] == [
        ("FRST", date(2026, 11, 2), 1),
        ("RCUR", date(2026, 11, 16), 1),
        ("RCUR", date(2026, 11, 2), 1),
    ]
    result = xmllint(out, "pain.008.001.08")
    assert result.returncode == 0, result.stderr
    assert io.BytesIO(out.read_bytes()).getvalue().count(b"<AmdmntInd>true") == 1
