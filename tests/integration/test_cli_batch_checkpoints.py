"""`gateway sepa debits|credits` and `gateway bank import` commit big transactions: on SQLite their
write-ahead log is checkpointed by a thread (gateway.store.wal, wired by gateway.cli.composed), which
has stopped, and left the database file whole, when the command returns."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.store import wal
from tests.integration.test_cli_sepa_output import collectable, env, gateway

__all__ = ["env"]


class Started:
    """Every WalCheckpointer started, with what it did."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.checkpointers: list[wal.WalCheckpointer] = []
        original = wal.WalCheckpointer.start

        def start(checkpointer: wal.WalCheckpointer) -> wal.WalCheckpointer:
            self.checkpointers.append(checkpointer)
            return original(checkpointer)

        monkeypatch.setattr(wal.WalCheckpointer, "start", start)


def test_sepa_runs_checkpoint_in_a_thread_that_has_stopped_when_they_return(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collectable(env)
    started = Started(monkeypatch)

    gateway(env, "mandates", "pending")  # a short command keeps SQLite's automatic checkpoint
    assert started.checkpointers == []
    emitted = json.loads(gateway(env, "sepa", "debits", "--period", "2026-12").stdout)
    answers = gateway(env, "bank", "simulate", emitted["sent_to"], "--out", str(tmp_path / "bank"))
    gateway(env, "bank", "import", *answers.stdout.split())
    gateway(env, "sepa", "credits", "--date", "2026-12-20")

    assert [c.every for c in started.checkpointers] == [0.1, 0.1, 0.1]  # debits, import, credits
    for checkpointer in started.checkpointers:
        assert checkpointer.checkpoints >= 1  # at least the last one, at close
        assert checkpointer._thread is None
    assert not [t for t in threading.enumerate() if t.name == "sqlite-wal-checkpoint"]
    database = tmp_path / "var" / "gateway.sqlite3"
    wal_file = Path(f"{database}-wal")
    assert not wal_file.exists() or wal_file.stat().st_size == 0  # everything is in the database file
    copy = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        assert copy.execute("SELECT kind FROM payment_files").fetchall() == [("pain.008",)]
        assert copy.execute("SELECT status FROM bank_outbox").fetchall() == [("sent",)]
        assert copy.execute("SELECT count(*) FROM bank_reports").fetchone()[0] == len(answers.stdout.split())
    finally:
        copy.close()
    assert emitted["transactions"] == 1
