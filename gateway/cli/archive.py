"""`gateway archive ...`: verify the tamper-evident archive, prove inclusion, export for audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from gateway.cli import main

_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Archive folder (default: the configured archive dir, var/archive).",
)
_CA = click.option(
    "--ca",
    "ca_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Trusted CA of the signing certificate (default: the configured certs dir's ca.pem).",
)


def _folder(directory: Path | None) -> Path:
    from gateway.config import Settings

    return directory if directory is not None else Settings().effective_archive_dir


def _ca(ca_file: Path | None) -> Path:
    from gateway.config import Settings

    return ca_file if ca_file is not None else Settings().effective_client_ca


def _emit(document: object) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


@main.group()
def archive() -> None:
    """The signed, append-only archive of every exchange."""


@archive.command()
@_DIR
@_CA
def verify(directory: Path | None, ca_file: Path | None) -> None:
    """Recompute every hash, the Merkle tree and every checkpoint signature; exit 1 on damage."""
    from gateway.archive.verify import verify_archive
    from gateway.signing import load_trust_anchors

    folder = _folder(directory)
    report = verify_archive(folder, trust_anchors=load_trust_anchors(_ca(ca_file)))
    _emit(report.to_json())
    if not report.ok:
        click.echo(f"archive {folder} is DAMAGED: {report.problems[0]}", err=True)
        sys.exit(1)
    click.echo(f"archive {folder}: {report.entries} entries verified", err=True)


@archive.command()
@click.argument("entry", type=int)
@_DIR
def proof(entry: int, directory: Path | None) -> None:
    """Print the inclusion proof of ENTRY (sequence number) against the latest checkpoint."""
    from gateway.archive.store import Archive

    with Archive(_folder(directory)) as store:
        _emit(store.inclusion_proof(entry).to_json())


@archive.command()
@_DIR
def checkpoint(directory: Path | None) -> None:
    """Sign a checkpoint of the archive as it is now (with the configured signer)."""
    from gateway.archive.store import Archive
    from gateway.config import Settings
    from gateway.signing import Signer

    signer = Signer.from_settings(Settings())
    with Archive(_folder(directory), signer=signer) as store:
        click.echo(store.checkpoint().note, nl=False)


@archive.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_DIR
def export(out: Path, directory: Path | None) -> None:
    """Write a .tar.gz bundle (blobs, signatures, journal, checkpoints, README) for an auditor."""
    from gateway.archive.export import export_bundle

    count = export_bundle(_folder(directory), out)
    click.echo(f"exported {count} entries to {out}", err=True)
