"""What the intake tests share: the greffe example as distinct titles, and services on fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from gateway.services.intake import IntakeServices
from gateway.signing.cms import Signer
from gateway.store import MemoryStore
from tests.fakes import FakeArchive

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
GREFFE = (EXAMPLES / "greffe-1.xml").read_bytes()
INVALID = GREFFE.replace(b"<TypeTitre>1</TypeTitre>", b"<TypeTitre>4</TypeTitre>")


def distinct_title(number: int, series: str = "B") -> bytes:
    """The greffe example with another minute number: another title, another dossier."""
    return GREFFE.replace(b"26/01842", f"26/{series}{number:05d}".encode())


def services_for(dev_pki: Path, store: MemoryStore, archive: FakeArchive) -> IntakeServices:
    """Intake on a memory store and a fake archive; fixed clock, receipt ids RCT-0001, RCT-0002..."""
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    ids = count(1)
    return IntakeServices(
        store=store, signer=signer, archive=archive, clock=lambda: NOW, new_id=lambda: f"RCT-{next(ids):04d}"
    )
