"""`gateway/sepa/iban_formats.json`: the snapshot of schwifty's IBAN registry the EPC fast path reads
(# EPC130-08 AT-07, EPC125-05 AT-20: a valid IBAN of a SEPA country) so that writing a file does not
import schwifty; it must say what schwifty says, country by country."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec

from gateway.sepa import rules
from gateway.sepa.countries import SEPA

SNAPSHOT = Path(rules.__file__).with_name("iban_formats.json")
ROOT = Path(__file__).resolve().parents[3]
REGENERATE = "tests/unit/sepa/test_iban_formats.py"
UPDATE = os.environ.get("GATEWAY_UPDATE_GOLDEN") == "1"  # after a schwifty upgrade changed a format


def _from_schwifty() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for country in sorted(SEPA.all):
        try:
            spec = get_iban_spec(country)
        except (KeyError, SchwiftyException):
            continue
        found[country] = {"length": spec.iban_length, "bban": spec.regex.pattern}
    return found


def test_the_snapshot_is_schwifty_registry_for_every_sepa_country() -> None:
    expected = _from_schwifty()
    if UPDATE:
        document = {
            "source": f"schwifty {version('schwifty')} IBAN registry (the SWIFT IBAN Registry, ISO 13616), "
            "for the SEPA countries of sepa_countries.json",
            "regenerate": f"GATEWAY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest {REGENERATE}",
            "countries": expected,
        }
        SNAPSHOT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))["countries"]
    assert snapshot == expected, "schwifty's registry changed: regenerate (see the file's 'regenerate')"
    assert snapshot["FR"]["length"] == 27


def test_a_country_outside_the_snapshot_has_no_fast_path() -> None:
    assert rules._iban_format("US")[0] == -1  # not SEPA: the detailed rule says why
    assert rules._iban_format("F1")[0] == -1
    assert not rules._iban_ok("US64SVBKUS6S3300958879")
    assert [i.code for i in rules.iban_rule("US64SVBKUS6S3300958879", "iban")] == ["invalid-iban"]


def test_writing_a_file_of_valid_ibans_does_not_import_schwifty(tmp_path: Path) -> None:
    """~30 ms of start-up per process (its importlib.metadata and pycountry): only an IBAN the fast
    path refuses loads it, for the detailed message."""
    script = (
        "import sys\n"
        "from tests.unit.sepa.samples import DEBIT_HEADER, FUND, golden_debits, source\n"
        "from gateway.sepa.pain008 import write_pain008\n"
        f"write_pain008(__import__('pathlib').Path({str(tmp_path / 'f.xml')!r}), DEBIT_HEADER, FUND,"
        " source(golden_debits()))\n"
        "assert 'schwifty' not in sys.modules, 'schwifty imported'\n"
        "from gateway.sepa import rules\n"
        "assert list(rules.iban_rule('FR7630006000011234567890180', 'iban'))\n"
        "assert 'schwifty' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
