"""Outbox event types and the helper every service uses to publish one in its own transaction.

An event is written through `uow.events` inside the transaction that makes the change it announces,
so it exists if and only if the change was committed; the feed and the webhook worker read it from
there (at least once, in commit order). Payloads hold personal data: never log them.

    with store.transaction() as uow:
        ...  # the change itself
        publish(uow.events, DEBIT_SETTLED, {"debit": debit}, at=now, dossier_id=dossier_id)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from gateway.store.ports import EventRepository, NewEvent

DOSSIER_ACCEPTED: Final = "dossier.accepted"
FILE_EMITTED: Final = "file.emitted"
DEBIT_SETTLED: Final = "debit.settled"
DEBIT_REJECTED: Final = "debit.rejected"
DEBIT_RETURNED: Final = "debit.returned"
ARREARS_CHANGED: Final = "arrears.changed"
ASF_DIFFERENTIAL_COMPUTED: Final = "asf.differential_computed"
MANDATE_SIGNED: Final = "mandate.signed"
MANDATE_AMENDED: Final = "mandate.amended"
PAYOUT_ACCOUNT_RECORDED: Final = "payout_account.recorded"
PENSION_REVALUED: Final = "pension.revalued"  # once per child and revaluation (docs/revaluation.md)

# Add types here; never rename one: back-office systems and webhook subscriptions match on them.
EVENT_TYPES: Final = frozenset(
    {
        DOSSIER_ACCEPTED,
        FILE_EMITTED,
        DEBIT_SETTLED,
        DEBIT_REJECTED,
        DEBIT_RETURNED,
        ARREARS_CHANGED,
        ASF_DIFFERENTIAL_COMPUTED,
        MANDATE_SIGNED,
        MANDATE_AMENDED,
        PAYOUT_ACCOUNT_RECORDED,
        PENSION_REVALUED,
    }
)


def new_event(
    type_: str, data: Mapping[str, Any], *, at: datetime, dossier_id: str | None = None
) -> NewEvent:
    """An outbox event of a known type; `data` must be JSON-serialisable (it is the feed's `data`)."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}; add it to gateway.services.events.EVENT_TYPES")
    if at.tzinfo is None:
        raise ValueError("naive datetimes are refused: times are tz-aware UTC")
    # allow_nan=False: NaN/Infinity are not JSON and a consumer's parser would choke on them.
    payload = json.dumps(dict(data), ensure_ascii=False, allow_nan=False)
    return NewEvent(type=type_, payload_json=payload, created_at=at, dossier_id=dossier_id)


def publish(
    events: EventRepository,
    type_: str,
    data: Mapping[str, Any],
    *,
    at: datetime,
    dossier_id: str | None = None,
) -> None:
    """Append an event to the transaction's outbox (`uow.events`); written when it commits."""
    events.append(new_event(type_, data, at=at, dossier_id=dossier_id))
