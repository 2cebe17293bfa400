"""Test doubles for the service layer's ports."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ArchivedItem:
    kind: str
    blob: bytes
    signature: bytes | None
    metadata: dict[str, str]


@dataclass
class FakeArchive:
    """Keeps every append in a list, in order, with the unit of work it was appended in (or None)."""

    items: list[ArchivedItem] = field(default_factory=list)
    uows: list[object] = field(default_factory=list)

    def append(
        self,
        kind: str,
        blob: bytes,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: object = None,
    ) -> ArchivedItem:
        item = ArchivedItem(kind, blob, signature, dict(metadata or {}))
        self.items.append(item)
        self.uows.append(uow)
        return item

    def append_many(
        self,
        items: Sequence[tuple[str, bytes, bytes | None, Mapping[str, str] | None]],
        *,
        uow: object = None,
    ) -> list[ArchivedItem]:
        return [self.append(k, b, signature=s, metadata=m or {}, uow=uow) for k, b, s, m in items]

    def append_file(
        self,
        kind: str,
        path: Path,
        *,
        signature: bytes | None = None,
        metadata: Mapping[str, str] | None = None,
        uow: object = None,
        sha256: str | None = None,
    ) -> ArchivedItem:
        blob = path.read_bytes()
        # the real archive trusts a given digest (verify catches a wrong one): the fake checks it
        assert sha256 is None or sha256 == hashlib.sha256(blob).hexdigest(), "wrong precomputed digest"
        return self.append(kind, blob, signature=signature, metadata=metadata, uow=uow)

    def kinds(self) -> list[str]:
        return [i.kind for i in self.items]


class FakeSigner:
    """Stands for the CMS signer (gateway.services.ports.Signer): a deterministic 'signature', the
    same for the content and for its SHA-256."""

    def sign_detached(self, data: bytes) -> bytes:
        return self.sign_detached_digest(hashlib.sha256(data).digest())

    def sign_detached_digest(self, sha256: bytes) -> bytes:
        return b"SIG:" + sha256

    def sign_detached_file(self, path: Path) -> bytes:
        return self.sign_detached(path.read_bytes())
