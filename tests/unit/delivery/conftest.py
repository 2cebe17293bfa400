"""Delivery test fixtures: a migrated SQLite store per test and a settable clock (the worker's own
unit tests run on fakes: tests/unit/services/test_delivery_worker.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.sql import SqlStore, open_sql_store
from tests.unit.delivery.support import FakeClock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_sql_store(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
