"""`gateway ingest` in batches, end to end in a subprocess: folders, path lists, order, archive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.integration.test_cli_intake import EXAMPLES, gateway

pytestmark = pytest.mark.slow  # subprocesses, servers or kill -9: -m "not slow" leaves them out

GREFFE = (EXAMPLES / "greffe-1.xml").read_bytes()


def title(number: int) -> bytes:
    return GREFFE.replace(b"26/01842", f"26/C{number:05d}".encode())


def test_batches_answer_every_file_in_order_and_the_archive_verifies(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    folder = tmp_path / "in"
    folder.mkdir()
    contents = [title(n) for n in range(70)]
    contents[10] = title(3)  # the same title twice in one batch (validated by the worker pool)
    contents[40] = GREFFE.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>4</TypeTitre>")
    for number, data in enumerate(contents):
        (folder / f"{number:03d}.xml").write_bytes(data)
    (folder / ".hidden").write_bytes(b"ignored")
    extra = tmp_path / "extra.xml"
    extra.write_bytes(title(3))  # a duplicate of a title from an earlier batch, listed on stdin
    done = gateway(
        "ingest", "--source", "greffe", "--batch", "64", "--jobs", "2", "--paths-from", "-", str(folder),
        cwd=tmp_path, env=env, stdin=f"{extra}\n\n".encode(),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # one title is refused
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 71
    outcomes = [a.get("outcome", "rejected") for a in answers]
    assert outcomes.count("accepted") == 68
    assert [n for n, o in enumerate(outcomes) if o != "accepted"] == [10, 40, 70]
    assert (outcomes[10], outcomes[40], outcomes[70]) == ("duplicate", "rejected", "duplicate")
    assert answers[10]["receipt"] == answers[3]["receipt"] == answers[70]["receipt"]
    assert answers[40]["errors"][0]["code"] == "title-kind-not-allowed"
    assert answers[40]["receipt"]["status"] == "rejected"
    with sqlite3.connect(tmp_path / "var" / "gateway.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM dossiers").fetchone() == (68,)
        assert db.execute("SELECT count(*) FROM receipts").fetchone() == (69,)
    verify = gateway("archive", "verify", cwd=tmp_path, env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(verify.stdout)
    # 71 raw payloads, 68 dossiers with their receipts, 1 rejection receipt
    assert report["entries"] == 71 + 68 * 2 + 1


def test_one_title_at_a_time_and_a_missing_file(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    (tmp_path / "a.xml").write_bytes(title(1))
    done = gateway("ingest", "--source", "greffe", "--batch", "1", "a.xml", "a.xml", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["outcome"] for line in done.stdout.splitlines()] == ["accepted", "duplicate"]
    missing = gateway("ingest", "--source", "greffe", "a.xml", "nope.xml", cwd=tmp_path, env=env)
    assert missing.returncode == 1
    assert b"cannot read nope.xml" in missing.stderr
    nothing = gateway("ingest", "--source", "greffe", cwd=tmp_path, env=env)
    assert nothing.returncode == 2


def test_a_title_that_cannot_be_stored_is_a_failed_line_and_exit_2(
    tmp_path: Path, dev_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gateway.services.intake as intake
    from gateway.cli import main

    real = intake.settle

    def settle(services: intake.IntakeServices, prepared: intake.PreparedBatch) -> list[object]:
        answers: list[object] = list(real(services, prepared))
        answers[1] = OSError("disk full")  # as if storing the second title had failed alone
        return answers

    monkeypatch.setattr(intake, "settle", settle)
    monkeypatch.setenv("GATEWAY_CERTS_DIR", str(dev_pki))
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "var"))
    for number in range(3):
        (tmp_path / f"{number}.xml").write_bytes(title(100 + number))
    files = [str(tmp_path / f"{n}.xml") for n in range(3)]
    done = CliRunner().invoke(main, ["ingest", "--source", "greffe", "--jobs", "0", *files])
    assert done.exit_code == 2, done.output
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["outcome"] for line in lines] == ["accepted", "failed", "accepted"]
    assert lines[1]["detail"] == "OSError: disk full"
