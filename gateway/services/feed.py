"""The pull feed: outbox events in commit order after a cursor, as back-office JSON documents.

Cursor: the decimal id of the last event a reader has seen ("0" or none: from the start). Event ids
grow in commit order (gateway.store.sql), so `after=N` always returns the same events in the same
order, and a reader that stores `next` and asks again never misses or reorders one; the cursor is
opaque to readers in the sense that they only hand back what they were given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.errors import MalformedPayload
from gateway.services.ports import EventRow, Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_MAX_ID = 2**63 - 1  # BIGINT on PostgreSQL
_CURSOR = re.compile(r"0|[1-9][0-9]{0,18}")


def parse_cursor(value: str | None) -> int:
    """The event id a cursor stands for; MalformedPayload (400) when it is not one of ours."""
    if value is None or value == "":
        return 0
    if not _CURSOR.fullmatch(value) or int(value) > _MAX_ID:
        raise MalformedPayload("the cursor is not one the feed gave out", field="after")
    return int(value)


def format_cursor(event_id: int) -> str:
    return str(event_id)


def utc_z(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as every time the gateway answers."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_document(event: EventRow) -> dict[str, Any]:
    """What a back-office receives for one event, in the feed and (plus `timestamp`) by webhook."""
    return {
        "id": format_cursor(event.event_id),
        "type": event.type,
        "dossier_id": event.dossier_id,
        "created_at": utc_z(event.created_at),
        "data": json.loads(event.payload_json),
    }


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[dict[str, Any]]
    next: str
    has_more: bool

    def to_json(self) -> dict[str, Any]:
        return {"events": self.events, "next": self.next, "has_more": self.has_more}


class EventFeed:
    """Reads pages of the outbox (given to the HTTP app as a service)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def page(self, after: int, limit: int = DEFAULT_LIMIT) -> FeedPage:
        if not 1 <= limit <= MAX_LIMIT:
            raise MalformedPayload(f"limit is between 1 and {MAX_LIMIT}", field="limit")
        with self.store.read() as uow:
            # One more than asked says whether another page follows without a second query; and the
            # cursor's own event first, to tell a cursor the feed gave out (every `next` is the id of
            # an event it showed) from one it never did, which would silently skip events.
            rows = list(uow.events.read_after(after - 1 if after else 0, limit + (2 if after else 1)))
        if after:
            if not rows or rows[0].event_id != after:
                raise MalformedPayload(
                    "the cursor is not one the feed gave out (no such event)", field="after"
                )
            rows = rows[1:]
        shown = rows[:limit]
        next_cursor = format_cursor(shown[-1].event_id) if shown else format_cursor(after)
        return FeedPage([event_document(e) for e in shown], next_cursor, len(rows) > limit)
