"""Issue #12 item 3: a dossier stored and never archived. Until the archive moved into the database,
`settle` committed the store's transaction and only then synced the archive: a process killed
between the two left a dossier and its receipt without evidence, and the resend was answered
`duplicate` without archiving anything. Here a SIGKILL is injected right after the store's
first commit, in a real `gateway ingest` process: the evidence must be there all the same."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from gateway.archive import Archive
from tests.support.archive import verified

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "schemas" / "examples" / "greffe-1.xml"

# the gateway CLI with SqlStore.transaction killing the process once its first commit is done
KILLED_AFTER_COMMIT = """
import os, signal, sys
from contextlib import contextmanager
from gateway.store import sql

original = sql.SqlStore.transaction

@contextmanager
def transaction(self):
    with original(self) as uow:
        yield uow
    os.kill(os.getpid(), signal.SIGKILL)  # committed: die before anything else happens

sql.SqlStore.transaction = transaction
from gateway.cli import main
main(sys.argv[1:])
"""


def _run(
    args: list[str], cwd: Path, env: dict[str, str], *, killed: bool
) -> subprocess.CompletedProcess[str]:
    code = KILLED_AFTER_COMMIT if killed else "import sys; from gateway.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_kill_right_after_the_commit_leaves_no_dossier_without_evidence(
    tmp_path: Path, dev_pki: Path
) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki), "GATEWAY_DATA_DIR": str(tmp_path / "var")}
    args = ["ingest", "--source", "greffe", str(EXAMPLE)]
    first = _run(args, tmp_path, env, killed=True)
    assert first.returncode == -signal.SIGKILL, first.stderr
    assert first.stdout == ""  # killed before answering
    again = _run(args, tmp_path, env, killed=False)
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["outcome"] == "duplicate"  # the dossier was stored by the killed process
    receipt = answer["receipt"]
    var = tmp_path / "var"
    with Archive.open(f"sqlite:///{var / 'gateway.sqlite3'}", var / "archive" / "blobs") as archive:
        entries = [archive.entry(seq) for seq in range(archive.size)]
        kinds = [(e.kind, e.metadata.get("dossier_id") or e.metadata.get("receipt_id")) for e in entries]
        # the killed process's transaction held the title's whole evidence
        assert ("canonical-dossier", receipt["dossier_id"]) in kinds
        assert ("receipt", receipt["receipt_id"]) in kinds
        payloads = [e for e in entries if e.kind == "inbound-payload"]
        assert len(payloads) == 2  # the first send and the resend, each as received
        assert archive.blob(payloads[0].blob_sha256) == EXAMPLE.read_bytes()
        report = verified(archive, dev_pki / "ca.pem")
    assert report.ok, report.problems
