"""`gateway demo` runs its whole walk-through and every step behaves as it says."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway.demo import as_if_sent_today, run_demo


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
    assert "1 SEPA credit transfer (purpose ALMY) of 350.00 EUR" in text


def test_examples_are_moved_to_today_but_birth_dates_stay() -> None:
    data = b"<Date>2026-11-16</Date><DateNaissance>1985-03-14</DateNaissance><DateFin>2040-03-31</DateFin>"
    moved = as_if_sent_today(data, date(2027, 3, 1))
    assert (
        moved
        == b"<Date>2027-02-22</Date><DateNaissance>1985-03-14</DateNaissance><DateFin>2040-03-31</DateFin>"
    )
    assert as_if_sent_today(data, date(2026, 11, 23)) == data
