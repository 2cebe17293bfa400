"""An archive on a throwaway SQLite database in a folder, and its verification, for the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.archive import Archive, VerifyReport, verify_archive
from gateway.signing.cms import load_trust_anchors


def database_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'gateway.sqlite3'}"


def open_archive(folder: Path, **options: Any) -> Archive:
    """The archive of `folder`: database `gateway.sqlite3`, big blobs under `blobs/`."""
    folder.mkdir(parents=True, exist_ok=True)
    return Archive.open(database_url(folder), folder / "blobs", **options)


def verified(archive: Archive, ca_file: Path) -> VerifyReport:
    with archive.store.read() as uow:
        return verify_archive(uow.connection, archive.blobs, trust_anchors=load_trust_anchors(ca_file))


def cli_args(folder: Path) -> list[str]:
    return ["--database", database_url(folder), "--dir", str(folder)]
