"""A server's SQLite WAL checkpoints run in a thread of their own, not inside an intake commit."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gateway.store import open_sql_store
from gateway.store.wal import WalCheckpointer


def autocheckpoint(store_url_engine: object) -> int:
    from sqlalchemy import Engine

    assert isinstance(store_url_engine, Engine)
    raw = store_url_engine.raw_connection()
    try:
        return int(raw.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0])  # type: ignore[union-attr]
    finally:
        raw.close()


def write_pages(path: Path, rows: int) -> None:
    """Commit `rows` rows of 4 KiB from another connection (another process would do the same)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS filler (n INTEGER PRIMARY KEY, data BLOB)")
        for _n in range(rows):
            db.execute("INSERT INTO filler (data) VALUES (?)", (bytes(4096),))
    finally:
        db.close()


def test_commits_no_longer_checkpoint_and_the_thread_does(tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite3"
    store = open_sql_store(f"sqlite:///{path}")
    assert autocheckpoint(store.engine) == 1000  # SQLite's default: a commit may checkpoint
    checkpointer = WalCheckpointer(store.engine, every=0.02).start()
    try:
        assert autocheckpoint(store.engine) == 0  # the server's commits never do
        with store.transaction() as uow:
            uow.connection.execute(text("CREATE TABLE filler (n INTEGER PRIMARY KEY, data BLOB)"))
            for _ in range(50):
                uow.connection.execute(text("INSERT INTO filler (data) VALUES (zeroblob(4096))"))
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        raw = store.engine.raw_connection()
        try:
            busy, frames, done = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # type: ignore[union-attr]
        finally:
            raw.close()
        assert (busy, done) == (0, frames)  # everything committed is in the database file
    finally:
        checkpointer.close()
    assert autocheckpoint(store.engine) == 1000  # closed: connections made afterwards checkpoint again
    with store.read() as uow:
        assert uow.connection.execute(text("SELECT count(*) FROM filler")).scalar() == 50
    store.close()


def test_a_failed_checkpoint_is_logged_and_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    checkpointer = WalCheckpointer(store.engine, every=0.01)
    calls = 0
    real = checkpointer.checkpoint

    def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk busy")
        real()

    monkeypatch.setattr(checkpointer, "checkpoint", flaky)
    with caplog.at_level(logging.WARNING, logger="gateway.store.wal"):
        checkpointer.start()
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        checkpointer.close()
    assert "WAL checkpoint failed: OSError" in caplog.text
    store.close()


def test_other_processes_keep_the_automatic_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "gateway.sqlite3"
    store = open_sql_store(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(store.engine, every=60).start()
    try:
        write_pages(path, 10)  # another connection (the CLI): the setting is per connection
        other = sqlite3.connect(path)
        try:
            assert other.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        finally:
            other.close()
    finally:
        checkpointer.close()
        store.close()


def test_only_for_sqlite() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(ValueError, match="SQLite"):
        WalCheckpointer(engine)


def test_a_big_commit_leaves_its_pages_in_the_log_and_close_copies_them(tmp_path: Path) -> None:
    """What a batch command gains: its COMMIT only writes and fsyncs the log (durable: synchronous
    FULL); the copy into the database file is the thread's, and close() makes sure it happened."""
    path = tmp_path / "gateway.sqlite3"
    store = open_sql_store(f"sqlite:///{path}")
    checkpointer = WalCheckpointer(store.engine, every=3600).start()  # no round during the test
    try:
        before = path.stat().st_size
        with store.transaction() as uow:  # 2,000 pages: SQLite's automatic checkpoint would copy them now
            uow.connection.execute(text("CREATE TABLE filler (n INTEGER PRIMARY KEY, data BLOB)"))
            for _ in range(2000):
                uow.connection.execute(text("INSERT INTO filler (data) VALUES (zeroblob(4000))"))
            # durability unchanged: each commit fsyncs its log (synchronous FULL = 2)
            assert uow.connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert path.stat().st_size == before  # committed, in the log only
        assert Path(f"{path}-wal").stat().st_size > 2000 * 4000
        other = sqlite3.connect(path)  # yet committed: another connection (process) sees the rows
        try:
            assert other.execute("SELECT count(*) FROM filler").fetchone()[0] == 2000
        finally:
            other.close()
    finally:
        checkpointer.close()
    assert path.stat().st_size > before + 2000 * 4000  # close() copied them into the database file
    store.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    copy = sqlite3.connect(path)
    try:
        assert copy.execute("SELECT count(*) FROM filler").fetchone()[0] == 2000
    finally:
        copy.close()


def test_close_waits_for_the_checkpoint_in_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    checkpointer = WalCheckpointer(store.engine, every=0.01)
    started = threading.Event()
    done: list[str] = []
    real = checkpointer.checkpoint

    def slow() -> None:
        if threading.current_thread().name == "sqlite-wal-checkpoint":
            started.set()
            time.sleep(0.3)  # a national run's copy takes seconds
            real()
            done.append("thread")
        else:
            real()
            done.append("close")

    monkeypatch.setattr(checkpointer, "checkpoint", slow)
    checkpointer.start()
    assert started.wait(10)
    checkpointer.close()
    assert done[-2:] == ["thread", "close"]  # the copy in progress ended, then the last one ran
    assert not [t for t in threading.enumerate() if t.name == "sqlite-wal-checkpoint"]
    store.close()


def test_the_period_must_be_positive(tmp_path: Path) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    with pytest.raises(ValueError, match="positive"):
        WalCheckpointer(store.engine, every=0)
    store.close()
