"""Tamper-evident archive: content-addressed blobs, an RFC 9162 Merkle journal, signed checkpoints.

archive = Archive(settings.effective_archive_dir, signer=Signer.from_settings(settings))
entry = archive.append("inbound.greffe", payload, signature=cms, metadata={"source": "greffe"})
entries = archive.append_many([NewEntry("receipt", body, cms, meta), ...])   # one sync for all
entry = archive.append_file("outbound-pain.008", path, signature=cms)        # streamed, any size
archive.checkpoint()                      # signed tree head (C2SP tlog-checkpoint + CMS)
archive.inclusion_proof(entry.seq)        # RFC 9162 §2.1.3 proof against the latest checkpoint
verify_archive(folder, trust_anchors=load_trust_anchors(ca_file))

Folder layout (store.py): blobs up to 64 KiB are records in append-only `packs/NNNNNNNN.pack`
(packs.py; since 2026-11-23), bigger ones a file each under `blobs/ab/...`. Archives written before
packs keep every blob as a file: they still open, verify and grow (new small blobs go to packs).
The packs' index (SHA-256 -> pack, offset, length) is persisted beside them (packindex.py:
`packs/index.log` and sorted runs), checked on every use; an archive without one is indexed once.
"""

from gateway.archive.checkpoint import DEFAULT_ORIGIN, Checkpoint, verify_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.export import export_bundle
from gateway.archive.journal import ArchiveEntry
from gateway.archive.store import Archive, ArchivePort, InclusionProof, NewEntry
from gateway.archive.verify import VerifyReport, verify_archive, verify_proof_document

__all__ = [
    "DEFAULT_ORIGIN",
    "Archive",
    "ArchiveCorrupt",
    "ArchiveEntry",
    "ArchivePort",
    "Checkpoint",
    "InclusionProof",
    "NewEntry",
    "VerifyReport",
    "export_bundle",
    "verify_archive",
    "verify_checkpoint",
    "verify_proof_document",
]
