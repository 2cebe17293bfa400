"""Tamper-evident archive: an RFC 9162 Merkle log in the gateway's database, signed checkpoints.

archive = Archive(store, blob_dir, signer=signer, checkpoint_every=100)
archive.append_many([NewEntry("receipt", body, cms, meta), ...], uow=uow)   # in the caller's transaction
entry = archive.append_file("outbound-pain.008", path, signature=cms)        # streamed, any size
archive.checkpoint()                      # signed tree head (C2SP tlog-checkpoint + CMS)
archive.inclusion_proof(entry.seq)        # RFC 9162 §2.1.3 proof; .to_tlog_proof(): c2sp.org/tlog-proof
archive.tile(level, index, width)         # c2sp.org/tlog-tiles
verify_archive(conn, archive.blobs, trust_anchors=load_trust_anchors(ca_file))

Parts: journal.py (an entry and its leaf bytes), log.py (its rows: entries, the sequencing row,
small blobs, checkpoints), blobs.py (bigger blobs: a content-addressed port and its folder
implementation), merkle.py (RFC 9162), checkpoint.py (C2SP signed notes + CMS), store.py (the
facade), verify.py, export.py, legacy.py (`archive migrate` from the old folder layout).
See docs/archive.md.
"""

from gateway.archive.checkpoint import DEFAULT_ORIGIN, Checkpoint, verify_checkpoint
from gateway.archive.errors import ArchiveCorrupt
from gateway.archive.journal import ArchiveEntry
from gateway.archive.store import Archive, InclusionProof
from gateway.archive.verify import VerifyReport, verify_archive, verify_proof_document
from gateway.services.ports import NewEntry

__all__ = [
    "DEFAULT_ORIGIN",
    "Archive",
    "ArchiveCorrupt",
    "ArchiveEntry",
    "Checkpoint",
    "InclusionProof",
    "NewEntry",
    "VerifyReport",
    "verify_archive",
    "verify_checkpoint",
    "verify_proof_document",
]
