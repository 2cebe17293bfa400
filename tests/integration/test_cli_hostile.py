"""Hostile titles on the command line (issue 12): `gateway ingest` isolates the poisoned title,
`gateway validate` answers with a documented exit code, valid UTF-8 and never a traceback."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.integration.test_cli_intake import EXAMPLES, gateway
from tests.support import hostile

AVOCAT = json.loads((EXAMPLES / "avocat-1.json").read_text(encoding="utf-8"))


def avocat_title(number: int) -> bytes:
    doc = json.loads(json.dumps(AVOCAT))
    doc["reference_envoi"] = f"AV-ISOL-{number:04d}"
    doc["debiteur"]["nom_naissance"] = f"Martin{'abcdefghij'[number]}"
    return json.dumps(doc, ensure_ascii=False).encode()


def test_one_poisoned_title_fails_alone_and_the_others_are_stored(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    names = ["good0.json", "poison.json", "good1.json", "good2.json", "nonchar.json"]
    contents = [avocat_title(0), hostile.lone_surrogate_key(), avocat_title(1), avocat_title(2)]
    contents.append(hostile.nonchar_in_avocat_text())
    for name, data in zip(names, contents, strict=True):
        (tmp_path / name).write_bytes(data)
    done = gateway("ingest", "--source", "avocat", *names, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # rejected titles, none failed
    assert b"Traceback" not in done.stderr
    answers = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    outcomes = [a.get("outcome", "rejected") for a in answers]
    assert outcomes == ["accepted", "rejected", "accepted", "accepted", "rejected"]
    assert answers[1]["errors"][0]["code"] == "malformed-payload"
    assert answers[1]["receipt"]["status"] == "rejected"
    assert answers[1]["signature"]
    assert (answers[4]["errors"][0]["code"], answers[4]["errors"][0]["field"]) == (
        "malformed-payload",
        "titre.nature",
    )
    with sqlite3.connect(tmp_path / "var" / "gateway.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM dossiers").fetchone() == (3,)


@pytest.mark.parametrize(
    ("source", "name", "data"), hostile.all_hostile(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_validate_answers_every_hostile_input_with_a_problem(
    tmp_path: Path, source: str, name: str, data: bytes
) -> None:
    (tmp_path / "title").write_bytes(data)
    done = gateway("validate", "--source", source, "title", "--today", "2026-11-23", cwd=tmp_path)
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode("utf-8")  # strict: never invalid UTF-8
    if name == "long-integer":  # 4,300 leading zeros: a valid integer, the title is accepted
        assert done.returncode == 0, text
        return
    assert done.returncode == 1, done.stderr
    assert json.loads(text)["errors"][0]["code"] in {
        "malformed-payload",
        "schema-violation",
        "limit-exceeded",
    }


def test_validate_exit_codes_for_usage_io_and_internal_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = gateway("validate", "--source", "greffe", "nowhere.xml", cwd=tmp_path)
    # one io-error line, the exit status of gateway.cli.failure (docs/install.md)
    assert (missing.returncode, missing.stdout) == (1, b"")
    assert b"io-error" in missing.stderr
    assert b"nowhere.xml" in missing.stderr
    assert b"Traceback" not in missing.stderr
    usage = gateway("validate", "--source", "fax", "nowhere.xml", cwd=tmp_path)
    assert usage.returncode == 2

    import gateway.cli.validate as command

    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("Julien Martin")

    monkeypatch.setattr(command, "validate", broken)
    result = CliRunner().invoke(main, ["validate", "--source", "greffe", str(EXAMPLES / "greffe-1.xml")])
    assert result.exit_code == 4  # internal error (gateway.cli.failure)
    assert "internal-error" in result.output
    assert "KeyError" in result.output
    assert "Julien" not in result.output
