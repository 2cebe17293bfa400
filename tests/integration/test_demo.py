"""`gateway demo` runs its whole walk-through and every step behaves as it says."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from pathlib import Path

from gateway.demo import EXAMPLES_DAY, as_if_sent_today, run_demo
from gateway.domain.money import format_euros
from gateway.payments.dues import prorated


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
    assert "ASF to advance to the creditor 201.78 EUR" in text  # full ASF on total default, 2026 table
    # the lawyer's two children at 175.00 each, from the examples' effective date moved to today: the
    # first month is owed for its days (art. 1074-4 II 5° CPC, gateway.payments.dues)
    effective = date(2026, 12, 1) + (datetime.now(UTC).date() - EXAMPLES_DAY)
    month_days = calendar.monthrange(effective.year, effective.month)[1]
    paid = 2 * prorated(17500, month_days - effective.day + 1, month_days)
    assert f"1 SEPA credit transfer (purpose ALMY) of {format_euros(paid)} EUR" in text
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
