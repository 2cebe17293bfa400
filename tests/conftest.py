"""Shared pytest fixtures: a development PKI made once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.pki import init_dev_pki


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh `gateway certs init` directory (files: docs/operations.md), shared by the session's tests."""
    directory = tmp_path_factory.mktemp("pki") / "dev"
    init_dev_pki(directory)
    return directory
