"""`gateway indices import|list|missing` and `gateway schedule` as an operator runs them, in a
subprocess (docs/revaluation.md): bad input is one line with its code, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli_intake import gateway

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"
INSEE_EXPORT = ROOT / "tests" / "unit" / "payments" / "data" / "valeurs_mensuelles.csv"


def _env(dev_pki: Path) -> dict[str, str]:
    return {"GATEWAY_CERTS_DIR": str(dev_pki)}


def test_import_list_and_refusals(tmp_path: Path, dev_pki: Path) -> None:
    env = _env(dev_pki)
    done = gateway("indices", "import", str(INSEE_EXPORT), cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "valeurs_mensuelles.csv: INSEE-001763852 2023-01..2024-10: "
        "21 values, 21 added, 0 changed, 0 unchanged"
    )
    again = gateway("indices", "import", str(INSEE_EXPORT), cwd=tmp_path, env=env)
    assert "0 added, 0 changed, 21 unchanged" in again.stdout.decode()
    listed = gateway("indices", "list", "--series", "001763852", "--json", cwd=tmp_path, env=env)
    rows = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    origins = {r["period"]: r["origin"] for r in rows}
    assert (origins["2021-01"], origins["2024-01"]) == ("shipped", "imported")
    assert next(r for r in rows if r["period"] == "2024-01")["value"] == "117.16"
    # a file that is not an INSEE export: one line naming the code and the line, nothing imported
    bad = tmp_path / "bad.csv"
    bad.write_text('"Libellé";"x";"Codes"\n"idBank";"001763852";""\n"Période";"";""\n"2024-T1";"1";"A"\n')
    refused = gateway("indices", "import", str(bad), cwd=tmp_path, env=env)
    assert refused.returncode == 1
    (line,) = refused.stderr.decode().strip().splitlines()
    assert line.startswith("gateway indices import: error: bad.csv: index-file-invalid (line 4): ")
    # two series side by side, the second with nothing published yet
    two = tmp_path / "two.csv"
    two.write_text(
        '"Libellé";"A";"Codes";"B";"Codes"\n"idBank";"001763852";"";"001759970";""\n'
        '"Période";"";"";"";""\n"2024-10";"118.83";"A";"";""\n',
        encoding="utf-8",
    )
    both = gateway("indices", "import", str(two), cwd=tmp_path, env=env)
    assert both.returncode == 0, both.stderr
    assert both.stdout.decode().splitlines() == [
        "two.csv: INSEE-001763852 2024-10..2024-10: 1 values, 0 added, 0 changed, 1 unchanged",
        "two.csv: INSEE-001759970: no published value, nothing imported",
    ]
    missing = gateway("indices", "import", str(tmp_path / "nope.csv"), cwd=tmp_path, env=env)
    assert missing.returncode == 1
    assert "index-file-invalid" in missing.stderr.decode()


def test_schedule_and_held_months(tmp_path: Path, dev_pki: Path) -> None:
    env = _env(dev_pki)
    ingest = gateway("ingest", "--source", "greffe", str(EXAMPLES / "greffe-1.xml"), cwd=tmp_path, env=env)
    assert ingest.returncode == 0, ingest.stderr
    dossier_id = json.loads(ingest.stdout.decode().splitlines()[0])["receipt"]["dossier_id"]
    shown = gateway("schedule", dossier_id, "--from", "2027-11", "--to", "2027-12", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    november, december = json.loads(shown.stdout)["months"]
    assert (november["due_cents"], december["held"]) == (33000, True)
    held = gateway("indices", "missing", "--period", "2027-12", cwd=tmp_path, env=env)
    assert held.returncode == 0
    lines = held.stdout.decode().strip().splitlines()
    assert lines == [
        f"{dossier_id} 2027-12 child 0: index-missing: INSEE-001763852 2027-10 (revaluation of 2027-12-01)",
        f"{dossier_id} 2027-12 child 1: index-missing: INSEE-001763852 2026-09 (revaluation of 2027-11-16)",
    ]
    bad = gateway("schedule", dossier_id, "--from", "2027-13", "--to", "2027-12", cwd=tmp_path, env=env)
    assert bad.returncode == 1
    expected = "gateway schedule: error: invalid-period (--from): from must be a month YYYY-MM (01 to 12)"
    assert bad.stderr.decode().strip() == expected
    unknown = gateway("schedule", "DOS-NOPE", "--from", "2027-11", "--to", "2027-12", cwd=tmp_path, env=env)
    assert unknown.returncode == 1
    assert "not-found" in unknown.stderr.decode()
    period = gateway("indices", "missing", "--period", "2027-1", cwd=tmp_path, env=env)
    assert period.returncode == 1
    assert (
        period.stderr.decode().strip()
        == "gateway indices missing: error: invalid-period (--period): a month is YYYY-MM (01 to 12)"
    )
