"""`gateway amounts` (the table with its sources, an operator's row, errors past the table) and
`gateway ledger DOSSIER` (per child and month), run through the command line on a real store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.payments.reconcile import DebitState, DebitStatus
from gateway.services.ports import DossierRow
from gateway.store import SqlStore, open_sql_store
from tests.support.debits import add_answered_debit

NOW = datetime(2026, 12, 11, 7, 0, tzinfo=UTC)
DOSSIER = "DOS-TWOCHILDREN"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "GATEWAY_DATA_DIR": str(tmp_path / "var"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'gateway.sqlite3'}",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_amounts_on_a_day_with_gross_net_penalty_and_source(env: dict[str, str]) -> None:
    code, out = run(env, "amounts", "--on", "2026-05-01")
    assert code == 0, out
    assert "row in force from 2026-04-01 to 2027-03-31" in out
    assert "478.64 EUR" in out  # BMAF 2026 (+0.9 %)
    assert "201.99 EUR gross,   200.98 EUR net of CRDS" in out
    assert "269.24 EUR gross,   267.89 EUR net of CRDS" in out
    assert "120.00 EUR" in out
    assert "RSA, one person                       unknown" in out  # never guessed
    assert "source: Revaluation of 1 April 2026" in out
    code, out = run(env, "amounts", "--on", "2024-06-01", "--json")
    row = json.loads(out)
    assert (row["asf_one_parent_gross"], row["asf_one_parent_net"], row["rsa_single"]) == (
        "196.84",
        "195.85",
        "635.71",
    )


def test_amounts_past_the_table_are_refused_until_an_operator_adds_the_row(env: dict[str, str]) -> None:
    code, out = run(env, "amounts", "--on", "2027-04-01")
    assert code == 1
    assert "amounts-not-published: no amounts published for 2027-04-01" in out
    code, out = run(env, "amounts", "--on", "2027-4-1")
    assert (code, "invalid-date" in out) == (1, True)
    code, out = run(
        env, "amounts", "add", "--since", "2027-04-01", "--bmaf", "483.00",
        "--published-asf-net", "202.80", "--source", "Circular of March 2027",
    )  # fmt: skip
    assert code == 1
    assert "amounts-mismatch" in out
    assert "202.81 net of CRDS" in out
    code, out = run(
        env, "amounts", "add", "--since", "2027-04-01", "--bmaf", "483.00",
        "--published-asf-net", "202.81", "--source", "Circular of March 2027",
    )  # fmt: skip
    assert code == 0, out
    code, out = run(env, "amounts", "--on", "2027-04-01", "--json")
    assert code == 0, out
    assert (json.loads(out)["bmaf"], json.loads(out)["source"]) == ("483.00", "Circular of March 2027")
    code, out = run(env, "amounts", "list", "--json")
    assert [json.loads(line)["since"] for line in out.splitlines()] == [
        "2024-04-01",
        "2025-04-01",
        "2026-04-01",
        "2027-04-01",
    ]
    code, out = run(
        env, "amounts", "add", "--since", "2029-04-01", "--bmaf", "490.00",
        "--published-asf-net", "205.77", "--source", "x",
    )  # fmt: skip
    assert code == 1
    assert "amounts-row-out-of-sequence" in out
    assert "2028-04-01" in out


def _seed_two_children(store: SqlStore) -> None:
    dossier = {
        "dossier_id": DOSSIER,
        "end_date": None,
        "children": [
            {"effective_date": "2026-11-01", "monthly_amount": "180.00"},
            {"effective_date": "2026-11-01", "monthly_amount": "150.00"},
        ],
    }
    with store.transaction() as uow:
        uow.dossiers.create_once(
            DossierRow(DOSSIER, "key", "greffe", "test", "ref", NOW, json.dumps(dossier), "accepted")
        )
    rejected = DebitStatus(DebitState.REJECTED, reason="AM04")
    add_answered_debit(
        store, DOSSIER, "2026-12", 33000, collection_date=date(2026, 12, 10), status=rejected, at=NOW
    )


def test_ledger_per_child_and_month(env: dict[str, str]) -> None:
    store = open_sql_store(env["GATEWAY_DATABASE_URL"])
    try:
        _seed_two_children(store)
    finally:
        store.close()
    code, out = run(env, "ledger", DOSSIER, "--as-of", "2026-12-20")
    assert code == 0, out
    lines = out.splitlines()
    month = next(line for line in lines if line.strip().startswith("2026-12 unpaid AM04"))
    # L. 523-1 I 4° CSS: two children in total default, two ASF (201.99 each, 200.98 net)
    assert month.split()[3:9] == ["330.00", "0.00", "330.00", "403.98", "401.96", "330.00"]
    assert "2031-12-10" in month  # art. 2224 C. civ.
    assert "notice by 2026-12-26" in month  # R. 582-8 CSS, from the import on 11 Dec
    children = [line.split() for line in lines if line.strip().startswith("child")]
    assert [c[2:8] for c in children] == [
        ["180.00", "0.00", "180.00", "201.99", "200.98", "180.00"],
        ["150.00", "0.00", "150.00", "201.99", "200.98", "150.00"],
    ]
    code, out = run(env, "ledger", DOSSIER, "--as-of", "2026-12-20", "--json")
    doc = json.loads(out)
    assert (doc["asf_complement_cents"], doc["recoverable_cents"], len(doc["months"][0]["children"])) == (
        40398,
        33000,
        2,
    )
    code, out = run(env, "ledger", "DOS-NONE")
    assert (code, "not-found: no dossier DOS-NONE" in out) == (1, True)
    code, out = run(env, "ledger", DOSSIER, "--as-of", "yesterday")
    assert (code, "invalid-date" in out) == (1, True)
