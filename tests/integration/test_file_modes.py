"""Files with personal data are the service user's alone whatever the umask (issue 12, item 8):
after intake and a collection run under umask 022, the data folder and every folder in it are 0700,
every file 0600, and no staged pain file is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.test_cli_intake import EXAMPLES


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, timeout=120, check=False,
        preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip


def test_data_folder_0700_and_files_0600_under_umask_022(tmp_path: Path, dev_pki: Path) -> None:
    env = {"GATEWAY_CERTS_DIR": str(dev_pki)}
    for source, name in (("notaire", "notaire-1.xml"), ("avocat", "avocat-1.json")):
        done = run("ingest", "--source", source, str(EXAMPLES / name), cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        dossier_id = json.loads(done.stdout)["receipt"]["dossier_id"]
        done = run(
            "mandates", "sign", dossier_id, "--holder", "Martin Julien",
            "--iban", "FR7630006000011234567890189", "--signed-on", "2026-11-20", "--method", "paper",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    done = run("sepa", "debits", "--period", "2026-12", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    var = tmp_path / "var"
    sent = sorted(p.name for p in (var / "outbound").iterdir())
    assert len(sent) == 2
    assert sent[0].startswith("DD")
    assert not any((var / "staging").iterdir())  # no staged copy left behind
    assert (var / "gateway.sqlite3").is_file()
    modes = {p.relative_to(tmp_path): p.stat().st_mode & 0o777 for p in [var, *var.rglob("*")]}
    # archived blobs are read-only (0400); everything else 0600, folders 0700
    wanted = {True: {0o700}, False: {0o600, 0o400}}
    wrong = {str(p): oct(m) for p, m in modes.items() if m not in wanted[(tmp_path / p).is_dir()]}
    assert wrong == {}
