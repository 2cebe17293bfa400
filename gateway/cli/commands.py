"""Imports every command module so that each registers itself on the `gateway` group."""

from __future__ import annotations

import gateway.cli.serve  # noqa: F401
from gateway.cli import archive, bank, certs, deliveries, demo, ingest, mandates, sepa, validate  # noqa: F401
