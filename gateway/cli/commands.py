"""Imports every command module so that each registers itself on the `gateway` group."""

from __future__ import annotations

import gateway.cli.serve  # noqa: F401
from gateway.cli import (  # noqa: F401
    amounts,
    archive,
    bank,
    certs,
    deliveries,
    demo,
    ingest,
    ledger,
    mandates,
    sepa,
    validate,
)
