"""SQLite WAL checkpoints in a thread of their own, for a server and for the long batch commands.

By default SQLite checkpoints inside a commit: the transaction that takes the write-ahead log past
1,000 pages then copies the log into the database file and fsyncs it before its COMMIT returns.
An intake batch writes a few hundred pages (dossiers, receipts, archive rows and blobs: most of
them keyed by random identifiers or digests, so each row dirties a page of its own), so every
few batches one commit also carried a checkpoint, several times its own cost, while every title
of that batch waited (bench/README.md, "Intake over mTLS": 25-45 % of the commit time of a
batch of 8). A server turns the automatic checkpoint off and checkpoints here instead, on its
own connection, every `every` seconds: PASSIVE, so it never blocks a writer nor a reader.

The batch commands that commit one big transaction (`gateway sepa debits|credits`, `gateway bank
import`) do the same, checked every 0.1 s: the monthly run over a million dossiers commits about
550 MB of log, and the copy of it into the database file (1-2 s, bench/README.md "Hand-off") now
runs while the file is handed to the bank channel instead of inside the COMMIT. The command still
waits for that copy before it exits (`close()`). Not for durability: SQLite copies the log anyway
when a process closes its last connection (Python 3.11's sqlite3 cannot turn that off), and a log
left behind would only be replayed by the next process that opens the database: the copy would
move, not go away. Waiting keeps the database file whole, without a `-wal` file, when the command
returns, as with the automatic checkpoint.

Durability is unchanged: a commit is durable once its log frames are fsync'ed (synchronous
FULL); the checkpoint only moves committed pages into the database file. Other processes on the
same database, and the other commands, keep SQLite's automatic checkpoint.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class WalCheckpointer:
    """`start()` it once the engine is built (before serving), `close()` it at shutdown.

    `every`: seconds between two checkpoints (0.5 for a server; a batch command checks more often,
    so that its one big commit is copied as soon as it lands)."""

    def __init__(self, engine: Engine, *, every: float = 0.5) -> None:
        if engine.dialect.name != "sqlite":
            raise ValueError("WAL checkpoints are SQLite's")
        if every <= 0:
            raise ValueError("the checkpoint period must be positive")
        self.engine = engine
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0  # completed calls (for tests and metrics)

    def start(self) -> WalCheckpointer:
        event.listen(self.engine, "connect", _no_automatic_checkpoint)
        self.engine.dispose()  # pooled connections reopen with the setting
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def checkpoint(self) -> None:
        """Move what is committed in the log into the database file, without waiting for anyone."""
        raw = self.engine.raw_connection()
        try:
            # autocommit connection (see gateway.store.engine): the PRAGMA runs outside a transaction
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # type: ignore[union-attr]
        finally:
            raw.close()
        self.checkpoints += 1

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.checkpoint()
            except Exception as exc:  # a busy or full disk: the next round tries again
                log.warning("WAL checkpoint failed: %s", type(exc).__name__)

    def close(self) -> None:
        """Stop the thread, checkpoint once more; new connections checkpoint automatically again.

        Waits for a checkpoint in progress to end (a PASSIVE checkpoint waits for no lock, so it
        ends once its pages are copied and the database file is fsync'ed), then makes the last one:
        what was committed since is in the database file when this returns."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        try:
            self.checkpoint()
        except Exception as exc:
            log.warning("WAL checkpoint failed: %s", type(exc).__name__)
        if event.contains(self.engine, "connect", _no_automatic_checkpoint):
            event.remove(self.engine, "connect", _no_automatic_checkpoint)
            self.engine.dispose()  # pooled connections reopen with SQLite's automatic checkpoint


def _no_automatic_checkpoint(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint = 0")
