"""`gateway mandates sign / payout-account / pending / show` and `gateway sepa mandate-account` as an
operator types them: JSON on success, one line per problem with its code on a bad input (exit 1,
never a traceback), and the waiting list as a table with a header or as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
UNKNOWN = "DOS-AAAAAAAAAAAAAAAA"
SIGN = ["--holder", "M. Julien Martin", "--iban", "FR7630006000011234567890189", "--bic", "AGRIFRPP",
        "--signed-on", "2026-12-01", "--method", "paper", "--day", "15"]  # fmt: skip


@pytest.fixture
def dossier_id(tmp_path: Path, dev_pki: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GATEWAY_CERTS_DIR", str(dev_pki))
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "var"))
    done = CliRunner().invoke(main, ["ingest", "--source", "greffe", str(EXAMPLES / "greffe-1.xml")])
    assert done.exit_code == 0, done.output
    return str(json.loads(done.output.splitlines()[0])["receipt"]["dossier_id"])


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def one_error_line(done: Result) -> str:
    assert done.exit_code == 1, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)
    assert "Traceback" not in done.output
    (line,) = done.stderr.splitlines()
    return line


def test_sign_then_the_dossier_no_longer_waits_for_a_mandate(dossier_id: str) -> None:
    listed = run("mandates", "pending")
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["DOSSIER", "WAITING", "FOR", "RECEIVED", "TITLE", "BANK", "DETAILS"]
    assert rows[0].split()[:2] == [dossier_id, "mandate-pending,no-payout-account"]
    assert rows[0].split()[-1] == "no"
    signed = run("mandates", "sign", dossier_id, *SIGN)
    assert signed.exit_code == 0, signed.output
    view = json.loads(signed.stdout)
    assert (view["status"], view["signed_on"], view["debit_day"], view["changed"]) == (
        "signed",
        "2026-12-01",
        15,
        True,
    )
    assert json.loads(run("mandates", "sign", dossier_id, *SIGN).stdout)["changed"] is False
    (line,) = run("mandates", "pending", "--json").stdout.splitlines()
    assert json.loads(line)["reasons"] == ["no-payout-account"]
    paid_to = run("mandates", "payout-account", dossier_id, "--holder", "Mme Claire Durand",
                  "--iban", "FR76 3000 4000 0312 3456 7890 143")  # fmt: skip
    assert json.loads(paid_to.stdout)["account"]["iban"] == "FR7630004000031234567890143"
    assert run("mandates", "pending", "--json").stdout == ""
    shown = json.loads(run("mandates", "show", dossier_id).stdout)
    assert (shown["mandate"]["status"], shown["payout_account"]["status"]) == ("signed", "recorded")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"--iban": "FR7630006000011234567890188"},
            "error: invalid-iban (iban): invalid IBAN: wrong check digits",
        ),
        ({"--bic": "AGRI"}, "error: invalid-bic (bic): "),
        (
            {"--signed-on": "2999-01-01"},
            "error: invalid-date (signed_on): date of signature is in the future",
        ),
        (
            {"--signed-on": "2026-11-01"},
            "error: invalid-date (signed_on): date of signature is before the title (2026-11-16)",
        ),
        ({"--day": "5"}, "error: invalid-debit-day (debit_day): debit day must be 1, 10 or 15"),
        ({"--method": "fax"}, "error: invalid-mandate-method (method): "),
    ],
)
def test_a_bad_signature_is_one_line_with_its_code(
    dossier_id: str, changes: dict[str, str], expected: str
) -> None:
    args = list(SIGN)
    for option, value in changes.items():
        args[args.index(option) + 1] = value
    assert one_error_line(run("mandates", "sign", dossier_id, *args)).startswith(expected)
    assert json.loads(run("mandates", "show", dossier_id).stdout)["mandate"]["status"] == "pending"


def test_unknown_dossiers_and_pending_mandates_say_so(dossier_id: str) -> None:
    assert one_error_line(run("mandates", "sign", UNKNOWN, *SIGN)) == (
        f"error: not-found (dossier_id): no such dossier: {UNKNOWN}"
    )
    assert one_error_line(
        run("mandates", "payout-account", UNKNOWN, "--holder", "X", "--iban", "FR7630004000031234567890143")
    ).startswith("error: not-found")
    # a change of account needs a signed mandate first
    line = one_error_line(run("sepa", "mandate-account", dossier_id, "--iban", "FR7630004000031234567890143"))
    assert line.startswith("error: mandate-pending (dossier_id): ")
    run("mandates", "sign", dossier_id, *SIGN)
    changed = run("sepa", "mandate-account", dossier_id, "--iban", "FR7630004000031234567890143")
    # never collected on yet: the bank has not seen the mandate, nothing to amend
    assert json.loads(changed.stdout) == {"dossier_id": dossier_id, "pending_amendment": None}


def test_sepa_mandate_account_as_typed_prints_no_traceback(tmp_path: Path, dev_pki: Path) -> None:
    # issue 14: a bad IBAN printed a raw traceback, an unknown dossier "has no mandate yet"
    env = {**os.environ, "GATEWAY_CERTS_DIR": str(dev_pki), "GATEWAY_DATA_DIR": str(tmp_path / "var")}

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120, check=False)  # fmt: skip

    bad_iban = gateway("sepa", "mandate-account", UNKNOWN, "--iban", "FR76BAD")
    unknown = gateway("sepa", "mandate-account", UNKNOWN, "--iban", "FR7630004000031234567890143")
    for done in (bad_iban, unknown):
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
    assert unknown.stderr.strip() == f"error: not-found (dossier_id): no such dossier: {UNKNOWN}"
    assert bad_iban.stderr.startswith("error: not-found")  # the dossier is looked up first


def test_the_collection_summary_lists_the_dossiers_waiting_by_reason(dossier_id: str) -> None:
    done = run("sepa", "debits", "--period", "2026-12")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["transactions"] == 0
    assert summary["waiting"] == {"mandate-pending": {"count": 1, "dossiers": [dossier_id]}}
