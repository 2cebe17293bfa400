"""Shared pytest fixtures: a development PKI made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.devtools.pki import init_dev_pki


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `gateway certs init` directory (files: docs/operations.md), shared by the session's tests."""
    directory = tmp_path_factory.mktemp("pki") / "dev"
    init_dev_pki(directory)
    return directory


_POSTGRES_FIXTURES = {"postgres_server", "postgres_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`postgres`: every test that runs on the throwaway PostgreSQL server (a fixture of tests/pg.py,
    or a backend parameter `postgresql`), so that `-m "not postgres"` leaves them all out."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = "postgresql" in params.values() or _POSTGRES_FIXTURES & set(
            getattr(item, "fixturenames", ())
        )
        if on_postgres:
            item.add_marker(pytest.mark.postgres)
