"""The console's audit trail: every action, who (certificate), when, what, on what, and how it ended.

Each record is signed and archived (`console-action`, the exact JSON with a detached CMS
signature), then listed in the `console_audit` table with its archive sequence number, which the
audit page shows: the table is for reading, the archive is the evidence. Details never hold
personal data in clear (an IBAN is masked as on the pages).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from gateway.archive.journal import format_time
from gateway.archive.store import Archive
from gateway.signing.cms import Signer
from gateway.store import schema
from gateway.store.sql import SqlStore
from gateway.transport.http.identity import Caller

ARCHIVE_KIND = "console-action"


@dataclass(frozen=True, slots=True)
class AuditRow:
    audit_id: int
    at: datetime
    operator_subject: str
    operator_fingerprint: str
    action: str
    target: str
    outcome: str
    details_json: str
    archive_seq: int | None

    @property
    def details(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.details_json)
        return loaded


def record(
    store: SqlStore,
    archive: Archive,
    signer: Signer,
    *,
    caller: Caller,
    action: str,
    target: str,
    outcome: str,
    details: Mapping[str, Any],
    at: datetime,
) -> AuditRow:
    """Archive the signed record of an action and list it in the audit table, in one transaction
    (the archive's log is in the same database): both are there, or neither."""
    document = {
        "action": action,
        "at": format_time(at),
        "details": dict(details),
        "operator": {"subject": caller.subject, "fingerprint_sha256": caller.fingerprint_sha256},
        "outcome": outcome,
        "target": target,
    }
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature = signer.sign_detached(body)
    values: dict[str, Any] = {
        "at": at,
        "operator_subject": caller.subject,
        "operator_fingerprint": caller.fingerprint_sha256,
        "action": action,
        "target": target,
        "outcome": outcome,
        "details_json": json.dumps(dict(details), sort_keys=True, ensure_ascii=False),
    }
    t = schema.console_audit
    with store.transaction() as uow:
        entry = archive.append(
            ARCHIVE_KIND,
            body,
            signature=signature,
            metadata={"action": action, "operator": caller.fingerprint_sha256},
            uow=uow,
        )
        values["archive_seq"] = entry.seq
        audit_id = uow.connection.execute(insert(t).returning(t.c.audit_id), values).scalar_one()
    return AuditRow(audit_id=int(audit_id), **values)


def _row(row: Any) -> AuditRow:
    return AuditRow(**row._mapping)


def page(store: SqlStore, *, before: int | None = None, limit: int = 50) -> list[AuditRow]:
    """The most recent records first; `before` an audit id for the next page."""
    t = schema.console_audit
    query = select(t).order_by(t.c.audit_id.desc()).limit(limit)
    if before is not None:
        query = query.where(t.c.audit_id < before)
    with store.read() as uow:
        return [_row(r) for r in uow.connection.execute(query)]


def last_of(store: SqlStore, action: str) -> AuditRow | None:
    t = schema.console_audit
    query = select(t).where(t.c.action == action).order_by(t.c.audit_id.desc()).limit(1)
    with store.read() as uow:
        row = uow.connection.execute(query).first()
    return None if row is None else _row(row)


def count(store: SqlStore) -> int:
    with store.read() as uow:
        return int(
            uow.connection.execute(select(func.count()).select_from(schema.console_audit)).scalar_one()
        )
