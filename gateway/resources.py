"""Where the gateway's shipped files are: the schemas folder (XSDs, JSON Schemas, examples)."""

from __future__ import annotations

from pathlib import Path

# In a checkout and in the container image, `schemas/` sits beside the `gateway` package.
SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
EXAMPLES_DIR = SCHEMAS_DIR / "examples"
