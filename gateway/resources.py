"""Where the gateway's shipped files are: the schemas folder (XSDs, JSON Schemas, examples)."""

from __future__ import annotations

from pathlib import Path

# `gateway/schemas` is a link to the repository's `schemas/` in a checkout; a built wheel (and so the
# container image) holds the files themselves there, as package data.
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
EXAMPLES_DIR = SCHEMAS_DIR / "examples"
ISO20022_DIR = SCHEMAS_DIR / "iso20022"
