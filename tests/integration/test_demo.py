"""`gateway demo` runs its whole walk-through and every step behaves as it says."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.demo import EXAMPLES_DAY, as_if_sent_today, run_demo
from gateway.domain.money import format_euros
from gateway.payments.amounts import shipped_table
from gateway.payments.dues import prorated


def first_month_due(monthly_cents: int) -> str:
    """What a child owes for the demo's first month: the examples' effective date moves with today,
    and a month the pension starts in is owed for its days (art. 1074-4 II 5° CPC)."""
    effective = date(2026, 12, 1) + (datetime.now(UTC).date() - EXAMPLES_DAY)
    month_days = calendar.monthrange(effective.year, effective.month)[1]
    return format_euros(prorated(monthly_cents, month_days - effective.day + 1, month_days))


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    lines: list[str] = []
    assert run_demo(tmp_path, lines.append) == 0, "\n".join(lines)
    text = "\n".join(lines)
    assert "greffe   -> 201 accepted" in text
    assert "same receipt: True" in text
    assert "422" in text
    assert "ok=True" in text
    assert "the back-office records the mandates the debtors signed" in text  # before any debit
    assert "(no bank details yet) waits: mandate-pending" in text
    assert "2 SDD Core debits" in text
    assert "unpaid, reason AM04" in text
    # two children in total default: one full ASF each (L. 523-1 I 4° CSS), recoverable up to each
    # child's unpaid 175 € (for the days owed); the amounts are the table's for the month collected
    due = re.escape(first_month_due(17500))
    children = re.findall(rf"child (\d): due {due}, ASF (\d+\.\d\d) \((\d+\.\d\d) net of CRDS\), "
                          rf"recoverable from the debtor {due}", text)  # fmt: skip
    if "ASF not computed (amounts-not-published)" not in text:  # past the table: said, never guessed
        assert [c[0] for c in children] == ["1", "2"]
        gross = {format_euros(row.asf_one_parent_gross_cents) for row in shipped_table().rows}
        assert children[0][1] in gross
        total = format_euros(2 * int(children[0][1].replace(".", "")))
        assert f"ASF to advance to the creditor {total} EUR, one per child" in text
    notary = first_month_due(21000)  # the notary's creditor
    assert f"1 SEPA credit transfer (purpose ALMY) of {notary} EUR" in text
    # L. 582-1 I CSS: 150.00 × 117.16 / 113.86 -> 154.35; the judge's clause, to the euro: 185.00
    assert "2024-04: child 0 185.00 (INSEE-001763852 2023-11 117.33 / title 113.86)" in text
    assert "child 1 154.35 (INSEE-001763852 2024-01 117.16 / 2023-01 113.86)" in text
    assert "2025-04: held ['index-missing']" in text


def test_examples_are_moved_to_today_but_birth_dates_stay() -> None:
    data = b"<Date>2026-11-16</Date><DateNaissance>1985-03-14</DateNaissance><DateFin>2040-03-31</DateFin>"
    moved = as_if_sent_today(data, date(2027, 3, 1))
    assert (
        moved
        == b"<Date>2027-02-22</Date><DateNaissance>1985-03-14</DateNaissance><DateFin>2040-03-31</DateFin>"
    )
    assert as_if_sent_today(data, date(2026, 11, 23)) == data
