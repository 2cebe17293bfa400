"""`gateway archive ...`: verify the tamper-evident archive, prove inclusion, export, migrate."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gateway.cli import current_settings, main

if TYPE_CHECKING:
    from gateway.archive.store import Archive
    from gateway.archive.verify import VerifyReport

_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Archive folder holding the big blobs (default: GATEWAY_ARCHIVE_DIR, var/archive).",
)
_DB = click.option(
    "--database",
    "database",
    default=None,
    help="Database holding the log (default: GATEWAY_DATABASE_URL, the SQLite file in the data dir).",
)
_CA = click.option(
    "--ca",
    "ca_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Trusted CA of the signing certificate (default: the configured certs dir's ca.pem).",
)


@contextmanager
def _opened(database: str | None, directory: Path | None, *, signed: bool = False) -> Iterator[Archive]:
    """The archive named on the command line (else the configured one), composed by bootstrap."""
    from gateway.bootstrap import open_archive
    from gateway.errors import GatewayError

    try:
        with open_archive(
            current_settings(), database=database, directory=directory, signed=signed
        ) as archive:
            yield archive
    except GatewayError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc


def _ca(ca_file: Path | None) -> Path:
    return ca_file if ca_file is not None else current_settings().effective_client_ca


def _emit(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _verified(archive: Archive, ca_file: Path | None) -> VerifyReport:
    from gateway.archive.verify import verify_archive
    from gateway.signing.cms import load_trust_anchors

    anchors = load_trust_anchors(_ca(ca_file))
    with archive.store.read() as uow:
        report = verify_archive(uow.connection, archive.blobs, trust_anchors=anchors)
    _emit(report.to_json())
    if not report.ok:
        click.echo(f"archive is DAMAGED: {report.problems[0]}", err=True)
        sys.exit(1)
    click.echo(f"archive: {report.entries} entries verified", err=True)
    return report


@main.group()
def archive() -> None:
    """The signed, append-only archive of every exchange (a Merkle log in the database)."""


@archive.command()
@_DB
@_DIR
@_CA
def verify(database: str | None, directory: Path | None, ca_file: Path | None) -> None:
    """Recompute every hash, the Merkle tree and every checkpoint signature; exit 1 on damage."""
    with _opened(database, directory) as store:
        _verified(store, ca_file)


@archive.command()
@click.argument("entry", type=int)
@click.option("--json", "as_json", is_flag=True, help="The proof as JSON (with the checkpoint's CMS).")
@_DB
@_DIR
def proof(entry: int, as_json: bool, database: str | None, directory: Path | None) -> None:
    """Print the inclusion proof of ENTRY (sequence number) as a c2sp.org/tlog-proof."""
    from gateway.errors import GatewayError

    with _opened(database, directory) as store:
        try:
            found = store.inclusion_proof(entry)
        except GatewayError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        if as_json:
            _emit(found.to_json())
        else:
            click.echo(found.to_tlog_proof(), nl=False)


@archive.command()
@_DB
@_DIR
def checkpoint(database: str | None, directory: Path | None) -> None:
    """Sign a checkpoint of the archive as it is now (with the configured signer)."""
    from gateway.errors import GatewayError

    with _opened(database, directory, signed=True) as store:
        try:
            click.echo(store.checkpoint().note, nl=False)
        except GatewayError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc


@archive.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_DB
@_DIR
def export(out: Path, database: str | None, directory: Path | None) -> None:
    """Write a .tar.gz bundle (blobs, signatures, journal, checkpoints, README) for an auditor."""
    from gateway.archive.export import export_bundle

    with _opened(database, directory) as store:
        count = export_bundle(store, out)
    click.echo(f"exported {count} entries to {out}", err=True)


@archive.command()
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="The old archive folder (journal.log, packs/, blobs/, checkpoints.jsonl) or an unpacked export.",
)
@_DB
@_DIR
@_CA
def migrate(source: Path, database: str | None, directory: Path | None, ca_file: Path | None) -> None:
    """Load an archive folder into the (empty) database log, then verify it; exit 1 on damage."""
    from gateway.archive.legacy import migrate_folder
    from gateway.errors import GatewayError

    with _opened(database, directory) as store:
        try:
            count = migrate_folder(source, store)
        except GatewayError as exc:
            raise click.ClickException(f"{exc.code}: {exc.message}") from exc
        click.echo(f"migrated {count} entries from {source}", err=True)
        _verified(store, ca_file)
