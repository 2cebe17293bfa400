"""SQL repository of what the back-office records for a dossier's money: payout accounts, and the
dossiers still waiting for a signed mandate or a payout account (SQLite and PostgreSQL).

Mandates themselves are rows of `gateway.store.payments` (the collection reads them there).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict

from sqlalchemy import Connection, and_, insert, or_, select, update

from gateway.services.records import STATUS_SIGNED, PayoutAccountRow, WaitingRow
from gateway.store import schema
from gateway.store.payments import PAGE


class SqlMandates:
    """Payout accounts and the waiting list, on one connection (inside the caller's transaction)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_dossier(self, dossier_id: str) -> None:
        """SELECT ... FOR NO KEY UPDATE on the dossier's row (nothing on SQLite, whose writers are
        serial): two records for one dossier apply one after the other. Not FOR UPDATE: that
        lock also stops the key checks of rows that name the dossier (a collection run storing
        its span while this record waits for the run's mandates: a deadlock)."""
        t = schema.dossiers
        query = select(t.c.dossier_id).where(t.c.dossier_id == dossier_id)
        self._conn.execute(query.with_for_update(key_share=True))

    def payout_accounts(self, dossier_ids: Sequence[str]) -> dict[str, PayoutAccountRow]:
        t = schema.payout_accounts
        rows = self._conn.execute(select(t).where(t.c.dossier_id.in_(list(dossier_ids)))).all()
        return {r.dossier_id: PayoutAccountRow(**dict(r._mapping)) for r in rows}

    def payout_account(self, dossier_id: str) -> PayoutAccountRow | None:
        return self.payout_accounts([dossier_id]).get(dossier_id)

    def save_payout_account(self, row: PayoutAccountRow) -> None:
        t = schema.payout_accounts
        values = asdict(row)
        done = self._conn.execute(update(t).where(t.c.dossier_id == row.dossier_id).values(**values))
        if done.rowcount == 0:
            self._conn.execute(insert(t).values(**values))

    def last_debited_account(self, dossier_id: str) -> tuple[str, str, str | None] | None:
        """(holder, IBAN, BIC) of the dossier's latest debit: the mandate as its bank last saw it."""
        t = schema.debits
        row = self._conn.execute(
            select(t.c.debtor_name, t.c.debtor_iban, t.c.debtor_bic)
            .where(t.c.dossier_id == dossier_id)
            .order_by(t.c.created_at.desc(), t.c.period.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.debtor_name, row.debtor_iban, row.debtor_bic)

    def waiting_pages(self, *, page: int = PAGE) -> Iterator[list[WaitingRow]]:
        """Accepted dossiers lacking a signed mandate or a payout account, a page at a time, in
        dossier id order (keyset paging: a national list is never read whole)."""
        d, m, p = schema.dossiers, schema.mandates, schema.payout_accounts
        last = ""
        while True:
            rows = self._conn.execute(
                select(d.c.dossier_id, d.c.received_at, d.c.canonical_json, m.c.status, p.c.recorded_at)
                .outerjoin(m, m.c.dossier_id == d.c.dossier_id)
                .outerjoin(p, p.c.dossier_id == d.c.dossier_id)
                .where(
                    and_(
                        d.c.status == "accepted",
                        d.c.dossier_id > last,
                        or_(m.c.status.is_(None), m.c.status != STATUS_SIGNED, p.c.dossier_id.is_(None)),
                    )
                )
                .order_by(d.c.dossier_id)
                .limit(page)
            ).all()
            if not rows:
                return
            yield [
                WaitingRow(
                    dossier_id=r.dossier_id,
                    received_at=r.received_at,
                    canonical_json=r.canonical_json,
                    mandate_signed=r.status == STATUS_SIGNED,
                    payout_recorded=r.recorded_at is not None,
                )
                for r in rows
            ]
            last = rows[-1].dossier_id
