"""Archive errors: corruption found on open or by verify."""

from __future__ import annotations

from gateway.errors import Code, GatewayError


class ArchiveCorrupt(GatewayError):
    """The archive's files do not match what was appended (changed, missing or reordered bytes)."""

    default_code = Code.ARCHIVE_CORRUPT
