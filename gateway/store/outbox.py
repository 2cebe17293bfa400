"""The bank-file outbox table: files a committed run recorded, and whether the bank has them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gateway.services.records import OutboxRow
from gateway.store import schema


def _row(found: Any) -> OutboxRow:
    data = dict(found._mapping)
    data["signature"] = bytes(data["signature"])
    return OutboxRow(**data)


class SqlBankOutbox:
    """Read and write `bank_outbox` on a connection inside a transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, row: OutboxRow) -> None:
        self._conn.execute(insert(schema.bank_outbox).values(**asdict(row)))

    def get(self, message_id: str) -> OutboxRow | None:
        t = schema.bank_outbox
        found = self._conn.execute(select(t).where(t.c.message_id == message_id)).first()
        return None if found is None else _row(found)

    def pending(self) -> list[OutboxRow]:
        t = schema.bank_outbox
        query = select(t).where(t.c.status == "pending").order_by(t.c.created_at, t.c.message_id)
        return [_row(r) for r in self._conn.execute(query)]

    def mark_sent(self, message_id: str, *, channel_ref: str, at: datetime) -> None:
        t, files = schema.bank_outbox, schema.payment_files
        self._conn.execute(
            update(t)
            .where(t.c.message_id == message_id)
            .values(
                status="sent", sent_at=at, channel_ref=channel_ref, attempts=t.c.attempts + 1, last_error=None
            )
        )
        self._conn.execute(
            update(files).where(files.c.message_id == message_id).values(channel_ref=channel_ref)
        )

    def note_failure(self, message_id: str, error: str) -> None:
        t = schema.bank_outbox
        self._conn.execute(
            update(t).where(t.c.message_id == message_id).values(attempts=t.c.attempts + 1, last_error=error)
        )
