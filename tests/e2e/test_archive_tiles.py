"""The archive served as c2sp.org/tlog-tiles over mutual TLS, checked by an outside verifier
(tests/support/tlog_verifier.py: written from the C2SP and RFC 9162 texts, no gateway import):
the checkpoint's note signature, an inclusion proof and a consistency proof rebuilt from tiles."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.archive import Archive, NewEntry
from gateway.signing.cms import Signer
from gateway.transport.http.app import create_app
from gateway.transport.http.identity import Authenticator, RoleMap
from tests.e2e.harness import Clients, running_server
from tests.support import tlog_verifier as v
from tests.support.archive import open_archive

ORIGIN = "gateway.ifpa.local/archive"


def fill(archive: Archive, count: int) -> None:
    start = archive.size
    for at in range(start, start + count, 5000):
        archive.append_many(
            NewEntry("inbound-payload", f"<t n='{n}'/>".encode(), None, {"n": str(n)})
            for n in range(at, min(at + 5000, start + count))
        )


@pytest.fixture
def served(tmp_path: Path, dev_pki: Path) -> Iterator[tuple[Clients, Archive]]:
    signer = Signer.from_files(dev_pki / "signer.pem", dev_pki / "signer-key.pem")
    with open_archive(tmp_path / "a", signer=signer) as archive:
        app = create_app(authenticator=Authenticator(RoleMap()), services={Archive: archive})
        with running_server(app, dev_pki) as base_url:
            clients = Clients(base_url, dev_pki)
            yield clients, archive
            clients.close()


@pytest.mark.slow
def test_inclusion_and_consistency_proofs_from_tiles_fetched_over_mtls(
    served: tuple[Clients, Archive], dev_pki: Path
) -> None:
    clients, archive = served
    cert = x509.load_pem_x509_certificate((dev_pki / "signer.pem").read_bytes())
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)

    def fetch(path: str) -> bytes:
        answer = clients.get("backoffice", f"/v1/archive/{path}")
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/octet-stream"
        return answer.content

    def checkpoint() -> v.Checkpoint:
        answer = clients.get("backoffice", "/v1/archive/checkpoint")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"
        return v.open_checkpoint(answer.text, key, ORIGIN)

    fill(archive, 1000)
    archive.checkpoint()
    old = checkpoint()
    fill(archive, 65_800)  # beyond 256**2 entries: level-2 tiles exist
    archive.checkpoint()
    new = checkpoint()
    assert (old.size, new.size) == (1000, 66_800)

    log = v.TiledLog(fetch, new.size)
    assert log.mth(0, new.size) == new.root  # the whole tree, from tiles
    for index in (0, 255, 256, 999, 65_535, 65_536, 66_799):
        entry = log.entry(index)
        assert v.leaf_hash(entry) == log.mth(index, index + 1)  # the bundle matches the level-0 tile
        assert f'"seq":{index},' in entry.decode()
        v.verify_inclusion(index, new.size, v.leaf_hash(entry), log.inclusion_path(index), new.root)
    v.verify_consistency(old.size, new.size, old.root, new.root, log.consistency_proof(old.size))
    with pytest.raises(v.Invalid):
        v.verify_consistency(
            old.size, new.size, hashlib.sha256(b"x").digest(), new.root, log.consistency_proof(old.size)
        )
    # the old tree, from its own partial tiles (served as long as they exist)
    assert v.TiledLog(fetch, old.size).mth(0, old.size) == old.root


def test_tiles_are_for_readers_and_within_the_checkpoint(served: tuple[Clients, Archive]) -> None:
    clients, archive = served
    assert clients.get("backoffice", "/v1/archive/checkpoint").status_code == 404  # none signed yet
    fill(archive, 300)
    archive.checkpoint()
    assert clients.get("backoffice", "/v1/archive/tile/0/000").status_code == 200
    assert len(clients.get("backoffice", "/v1/archive/tile/0/001.p/44").content) == 44 * 32
    assert len(clients.get("backoffice", "/v1/archive/tile/1/000.p/1").content) == 32
    assert clients.get("backoffice", "/v1/archive/tile/entries/001.p/44").status_code == 200
    for bad in ("0/001", "0/001.p/45", "0/1", "0/x000/001", "64/000", "0/000.p/0", "0/000.p/256", "x/000"):
        answer = clients.get("backoffice", f"/v1/archive/tile/{bad}")
        assert answer.status_code == 404, bad
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "tile"
    assert clients.get("greffe", "/v1/archive/checkpoint").status_code == 403
    assert clients.get("greffe", "/v1/archive/tile/0/000").status_code == 403
