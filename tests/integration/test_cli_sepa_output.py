"""What `gateway sepa debits|credits|files` print for a person or a log: progress or a summary on
stderr, a table with a header (issue 14: a bare label off a terminal, no progress for credits, no
header)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.cli.progress import Progress
from gateway.devtools.pki import init_dev_pki

ROOT = Path(__file__).resolve().parents[2]
SIGNED = ("--signed-on", "2026-11-20", "--method", "electronic")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    init_dev_pki(tmp_path / "certs")
    return {"GATEWAY_DATA_DIR": str(tmp_path / "var"), "GATEWAY_CERTS_DIR": str(tmp_path / "certs")}


def gateway(env: dict[str, str], *args: str) -> Result:
    done = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done


def collectable(env: dict[str, str]) -> str:
    """A notaire title ingested, its debtor's mandate signed: a dossier the next run collects."""
    ingested = gateway(
        env, "ingest", "--source", "notaire", str(ROOT / "schemas" / "examples" / "notaire-1.xml")
    )
    dossier_id: str = json.loads(ingested.stdout)["receipt"]["dossier_id"]
    account = json.loads(gateway(env, "mandates", "show", dossier_id).stdout)["mandate"]["account"]
    # the debtor signed the mandate (issue 11): only then is the dossier collected
    gateway(
        env, "mandates", "sign", dossier_id, "--holder", account["holder"], "--iban", account["iban"], *SIGNED
    )
    return dossier_id


def test_debits_credits_and_files_say_what_they_did(env: dict[str, str]) -> None:
    collectable(env)

    debits = gateway(env, "sepa", "debits", "--period", "2026-12")
    assert debits.stderr == "dossiers for 2026-12: 1 of 1\n"  # off a terminal: one summary line
    emitted = json.loads(debits.stdout)
    assert emitted["transactions"] == 1

    files = gateway(env, "sepa", "files").stdout.splitlines()
    assert files[0].split() == [
        "message",
        "id",
        "kind",
        "label",
        "transactions",
        "total",
        "EUR",
        "sent",
        "to",
    ]
    assert files[1].split()[:5] == [emitted["message_id"], "pain.008", "2026-12", "1", emitted["total"]]
    assert files[1].index(" 1 ") < files[0].index("transactions") + len("transactions")  # right-aligned

    credits = gateway(env, "sepa", "credits", "--date", "2026-12-20")
    assert credits.stderr == "settled debits read for 2026-12-20: 0\n"  # nothing settled yet


def test_no_file_yet_is_said_so(env: dict[str, str]) -> None:
    done = gateway(env, "sepa", "files")
    assert done.stdout == ""
    assert done.stderr.startswith("no SEPA file emitted yet")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_is_redrawn_in_place_then_timed() -> None:
    screen = Terminal()
    with Progress("dossiers for 2026-12", total=3, stream=screen, every=0.0) as seen:
        for _ in range(3):
            seen.update(1)
    drawn = screen.getvalue()
    assert drawn.startswith("\rdossiers for 2026-12: 1 of 3\rdossiers for 2026-12: 2 of 3")
    assert drawn.endswith(" s\n")
    assert "\rdossiers for 2026-12: 3 of 3 in " in drawn
