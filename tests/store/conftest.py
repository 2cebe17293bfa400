"""Storage fixtures: every store test runs on SQLite and PostgreSQL (and the in-memory fake)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import MemoryStore, Store, open_sql_store
from tests.pg import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]


def _url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL on each SQL backend."""
    return _url(request.param, request, tmp_path)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The storage contract holds for the in-memory fake as for SQL on both backends."""
    if request.param == "memory":
        yield MemoryStore()
        return
    sql = open_sql_store(_url(request.param, request, tmp_path))
    yield sql
    sql.close()
