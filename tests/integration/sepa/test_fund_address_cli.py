"""`gateway sepa debits` and the fund's own address (GATEWAY_CREDITOR_ADDRESS_*), as an operator
meets them: one line with its code, never a traceback.

# SDD Core rulebook 2025 AT-05: the creditor's (the fund's) address is mandatory in a batch whose
# debtor banks in a non-EEA SEPA country; refused at the run (exit 1) when none is configured,
# and a configured address that is neither structured nor hybrid is refused at start-up (exit 3).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.devtools.pki import init_dev_pki

ROOT = Path(__file__).resolve().parents[3]
GREFFE = ROOT / "schemas" / "examples" / "greffe-1.xml"
SWISS = ("--iban", "CH9300762011623852957", "--bic", "UBSWCHZH80A")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    init_dev_pki(tmp_path / "certs")
    return {"GATEWAY_DATA_DIR": str(tmp_path / "var"), "GATEWAY_CERTS_DIR": str(tmp_path / "certs")}


def gateway(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _swiss_debtor(env: dict[str, str]) -> None:
    ingested = gateway(env, "ingest", "--source", "greffe", str(GREFFE))
    assert ingested.exit_code == 0, ingested.output
    dossier_id = json.loads(ingested.stdout)["receipt"]["dossier_id"]
    signed = gateway(
        env, "mandates", "sign", dossier_id, "--holder", "Paul Durand", *SWISS,
        "--signed-on", "2026-11-20", "--method", "electronic",
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output


def test_without_the_funds_address_a_swiss_debtors_run_is_refused_in_one_line(env: dict[str, str]) -> None:
    _swiss_debtor(env)
    no_address = env | {
        "GATEWAY_CREDITOR_ADDRESS_TOWN": "",
        "GATEWAY_CREDITOR_ADDRESS_STREET": "",
        "GATEWAY_CREDITOR_ADDRESS_BUILDING_NUMBER": "",
    }
    refused = gateway(no_address, "sepa", "debits", "--period", "2026-12")
    assert refused.exit_code == 1, refused.output
    assert "Traceback" not in refused.output
    (line,) = [text for text in refused.stderr.splitlines() if text.startswith("gateway ")]
    assert line.startswith("gateway sepa debits: sepa-fund-address-required: ")
    assert "GATEWAY_CREDITOR_ADDRESS_TOWN" in line
    assert "Durand" not in line  # no personal data
    # with the (default, demo) address the same run goes through, the address in the file
    done = gateway(env, "sepa", "debits", "--period", "2026-12")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["transactions"] == 1


def test_a_malformed_fund_address_stops_at_start_up(env: dict[str, str]) -> None:
    three_lines = env | {"GATEWAY_CREDITOR_ADDRESS_LINES": '["a", "b", "c"]'}
    done = gateway(three_lines, "sepa", "debits", "--period", "2026-12")
    assert done.exit_code == 3, done.output
    assert "Traceback" not in done.output
    (line,) = done.stderr.splitlines()
    assert line.startswith("gateway sepa debits: sepa-address-too-many-lines: GATEWAY_CREDITOR_ADDRESS_LINES")
