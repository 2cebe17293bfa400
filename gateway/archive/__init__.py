"""Tamper-evident archive: content-addressed blobs, an RFC 9162 Merkle journal, signed checkpoints."""
