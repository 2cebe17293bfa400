"""Delivery test fixtures: a migrated SQLite store per test, a settable clock, an archive double."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.services.delivery import DeliveryWorker
from gateway.store.sql import SqlStore, open_sql_store
from tests.fakes import FakeArchive
from tests.unit.delivery.support import FakeClock, make_worker


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_sql_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def archive() -> FakeArchive:
    return FakeArchive()


@pytest.fixture
def make(store: SqlStore, clock: FakeClock, archive: FakeArchive) -> Iterator[Callable[..., DeliveryWorker]]:
    """`make(**options)`: a worker on the test's store, clock and archive; closed after the test."""
    made: list[DeliveryWorker] = []

    def factory(**options: Any) -> DeliveryWorker:
        options.setdefault("clock", clock)
        options.setdefault("archive", archive)
        worker = make_worker(store, **options)
        made.append(worker)
        return worker

    yield factory
    for worker in made:
        worker.sender.close()
