"""Validate one transmission: adapt the source's bytes, apply every rule, build the canonical dossier.

No storage and no signing here: `gateway validate` calls this alone, the intake service calls it
first. Issues from the rules carry canonical paths; they leave here translated into the source's
own paths (`Enfants/Enfant[2]/MontantMensuel`, `enfants[1].montant_mensuel`).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.adapters import Adapter, adapter_for
from gateway.canonical.dossier import build_dossier, dedupe_key
from gateway.domain import rules
from gateway.domain.transmission import SourceKind, Transmission
from gateway.errors import Code, GatewayError, Issue, MalformedPayload, RuleViolation
from gateway.safeparse import DEFAULT_MAX_BYTES

PARIS = ZoneInfo("Europe/Paris")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Validated:
    transmission: Transmission
    dossier: dict[str, Any]
    dedupe_key: str
    warnings: tuple[Issue, ...]


def transmission_day(received_at: datetime) -> date:
    """The legal day of a transmission: the date in metropolitan France when it was received."""
    return received_at.astimezone(PARIS).date()


def validate(
    source: SourceKind | str,
    data: bytes,
    *,
    received_at: datetime,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Validated:
    """Accept or refuse a transmission. Raises a GatewayError carrying every issue found.

    Nothing else: an input that breaks a check in a way no test foresaw is refused as
    `unprocessable-payload` (and logged as the bug it is, without its values), so that one title
    never costs another and no sender gets a 500. The fuzz suite checks this never happens.
    """
    adapter = adapter_for(source)
    try:
        return _validate(adapter, data, received_at=received_at, max_bytes=max_bytes)
    except (GatewayError, MemoryError):
        raise
    except Exception as exc:
        # the type and where, never the message: it may quote the sent text
        where = traceback.extract_tb(exc.__traceback__)[-1]
        log.error(
            "a %s title broke a check: %s at %s:%s",
            adapter.source.value,
            type(exc).__name__,
            Path(where.filename).name,
            where.lineno,
        )
        raise MalformedPayload(
            "the payload could not be processed; it was refused", code=Code.UNPROCESSABLE_PAYLOAD
        ) from None


def _validate(adapter: Adapter, data: bytes, *, received_at: datetime, max_bytes: int) -> Validated:
    transmission = adapter.parse(data, max_bytes=max_bytes)
    found = [
        Issue(i.code, adapter.field_path(i.field), i.message, i.severity)
        for i in rules.check(transmission, transmission_day(received_at))
    ]
    errors = [i for i in found if i.severity == "error"]
    warnings = tuple(i for i in found if i.severity == "warning")
    if errors:
        raise RuleViolation.from_issues([*errors, *warnings])
    dossier = build_dossier(transmission, received_at=received_at, warnings=warnings)
    return Validated(transmission, dossier, dedupe_key(transmission), warnings)
