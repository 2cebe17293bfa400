"""The monthly run from collection profiles (the fast path) leaves exactly what the run from the
dossiers' canonical JSON (the exact path) leaves: the same debits to the cent, the same months
held, the same dossiers waiting or refused, the same revaluations recorded and published, month
after month, on SQLite and PostgreSQL (docs/collection-run.md). Two stores get the same varied
dossiers; one keeps the profiles intake writes, the other has none."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from gateway.payments.dues import title_date_of
from gateway.payments.indices import SILENT_SERIES, IndexValue, month_shift, shipped_table
from gateway.payments.profile import profile_of
from gateway.payments.revaluation import IndexMissing, clause_of, revaluation_dates, revalued_on
from gateway.sepa import ids
from gateway.services.collection import RunReport
from gateway.services.validation import validate
from gateway.store import SqlStore, open_sql_store, schema
from gateway.store.indices import SqlIndices
from tests.integration.sepa.test_runs import EXAMPLES, Env
from tests.pg import PostgresServer, postgres_server

__all__ = ["postgres_server"]

AT = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)
PERIODS = ("2024-02", "2024-12", "2025-01", "2025-03", "2025-12", "2026-01", "2026-12")
ROUNDINGS = (None, "à l'euro le plus proche", "à l'euro supérieur", "à l'euro inférieur")
NON_EEA = (("CH9300762011623852957", "UBSWCHZH80A"), ("MC5811222000010123456789030", "SGBTMCMCXXX"))
COMMON_AMOUNTS = ("150.00", "200.00", "87.50", "310.40")
IBANS = ("FR7630006000011234567890189", "FR1420041010050500013M02606", "DE89370400440532013000")


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _indexation(rng: random.Random) -> dict[str, Any] | None:
    kind = rng.choice(["silent", "silent", "excluded", "indexed", "indexed", None])
    if kind is None:
        return None
    if kind != "indexed":
        return {"mode": kind, "index_type": None, "index_value": None,
                "first_revaluation_date": None, "rounding": None}  # fmt: skip
    return {"mode": "indexed", "index_type": rng.choice(["INSEE-001763852", "001763852"]),
            "index_value": rng.choice(["104.24", "109.70", "113.860", "120"]),
            "first_revaluation_date": _day(rng, date(2024, 1, 1), date(2026, 6, 30)).isoformat(),
            "rounding": rng.choice(ROUNDINGS)}  # fmt: skip


def dossiers(n: int) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, bool]]:
    """(canonical dossier, mandate row or None, payout account?) for n varied dossiers."""
    received = datetime(2026, 11, 23, 8, tzinfo=UTC)
    base = dict(validate("greffe", (EXAMPLES / "greffe-1.xml").read_bytes(), received_at=received).dossier)
    rng = random.Random(20261206)
    for i in range(n):
        dossier_id = f"P{i:011d}"
        data = json.loads(json.dumps(base))
        data["dossier_id"] = dossier_id
        title = _day(rng, date(2022, 1, 1), date(2025, 6, 30))
        data["title"]["date"] = title.isoformat()
        children = []
        for position in range(rng.randint(1, 3)):
            child = dict(base["children"][position % len(base["children"])])
            # amounts repeat across dossiers, as in a fund: the memo of amounts in force is shared
            child["monthly_amount"] = rng.choice([*COMMON_AMOUNTS, f"{rng.randint(1, 90000) / 100:.2f}"])
            child["effective_date"] = _day(rng, title, date(2026, 8, 31)).isoformat()
            found = _indexation(rng)
            if found is None:
                child.pop("indexation", None)
            else:
                child["indexation"] = found
            children.append(child)
        data["children"] = children
        data["end_date"] = (
            _day(rng, date(2024, 6, 1), date(2027, 12, 31)).isoformat() if rng.random() < 0.3 else None
        )
        iban, bic = rng.choice(IBANS), rng.choice([None, "AGRIFRPP"])
        if i % 9 == 4:
            iban, bic = NON_EEA[i % 2]
            if i % 18 == 13:  # a debtor banking outside the EEA whose title has no address: refused
                data["debtor"]["address"] = None
        status = rng.choice(["signed"] * 6 + ["pending", None])
        mandate = None
        if status is not None:
            mandate = {
                "dossier_id": dossier_id, "reference": ids.mandate_reference(dossier_id), "status": status,
                "signed_on": date(2024, 1, 2) if status == "signed" else None, "method": "paper",
                "amended_on": None, "debtor_name": f"Parent debiteur {i}", "iban": iban, "bic": bic,
                "collection_day": rng.choice([None, None, 5, 28, 31]), "chosen_day": rng.choice([1, 10, 15]),
                "first_collection_done": rng.random() < 0.5, "pending_amendment": None, "updated_at": AT,
            }  # fmt: skip
            if i % 11 == 7:
                mandate["pending_amendment"] = json.dumps(
                    {"original_debtor_iban": "FR7630006000011234567890189"}
                )
        yield data, mandate, rng.random() < 0.8


def imported() -> list[IndexValue]:
    """Index values imported by the fund for most months of 2023-2026 (every fifth month missing:
    some months stay held), so that titles are revalued a second and a third time."""
    return [
        IndexValue(SILENT_SERIES, month_shift("2023-01", n), Decimal(115) + Decimal(n) / 4, "test")
        for n in range(46)
        if n % 5 != 3
    ]


def fill(store: SqlStore, rows: list[tuple[dict[str, Any], dict[str, Any] | None, bool]]) -> None:
    with store.transaction() as uow:
        SqlIndices(uow.connection).save(imported(), at=AT)
    with store.engine.begin() as conn:
        for data, mandate, payout in rows:
            dossier_id = data["dossier_id"]
            conn.execute(schema.dossiers.insert().values(
                dossier_id=dossier_id, dedupe_key=f"k:{dossier_id}", source_kind="greffe", sender="t",
                reference=dossier_id, received_at=AT, canonical_json=json.dumps(data), status="accepted",
            ))  # fmt: skip
            terms, address = profile_of(data)
            conn.execute(schema.collection_profiles.insert().values(
                dossier_id=dossier_id, terms=terms, debtor_address=address))  # fmt: skip
            if mandate is not None:
                conn.execute(schema.mandates.insert().values(**mandate))
            if payout:
                conn.execute(schema.payout_accounts.insert().values(
                    dossier_id=dossier_id, holder="Creancier", iban="FR7630006000011234567890189",
                    bic=None, recorded_at=AT))  # fmt: skip


def state(store: SqlStore) -> dict[str, Any]:
    """What a run leaves that anyone reads: debits, mandates moved on, revaluations, events."""
    d, m, r, e = schema.debits, schema.mandates, schema.revaluations, schema.events
    moved = select(m.c.dossier_id, m.c.first_collection_done, m.c.pending_amendment)
    with store.engine.connect() as conn:
        events = conn.execute(select(e).order_by(e.c.event_id))
        return {
            "debits": [tuple(x) for x in conn.execute(select(d).order_by(d.c.end_to_end_id))],
            "mandates": [tuple(x) for x in conn.execute(moved.order_by(m.c.dossier_id))],
            "revaluations": [
                tuple(x) for x in conn.execute(select(r).order_by(r.c.dossier_id, r.c.child, r.c.revalued_on))
            ],
            # every event in order; the payloads of those about a dossier (a file's names its folder)
            "events": [(x.type, x.dossier_id, x.payload_json if x.dossier_id else None) for x in events],
        }


def check_old_amounts(store: SqlStore, dossiers: dict[str, dict[str, Any]]) -> int:
    """Each `pension.revalued` says the amount before as the dossier's own clause gives it (the
    oracle: the clause read from the JSON, as gateway.services.revalued did before profiles);
    how many were after an earlier revaluation (not the title's amount)."""
    e = schema.events
    with store.engine.connect() as conn:
        payloads = [
            json.loads(x)
            for x in conn.execute(select(e.c.payload_json).where(e.c.type == "pension.revalued")).scalars()
        ]
    after_another, table = 0, shipped_table().over(imported())
    for event in payloads:
        data = dossiers[event["dossier_id"]]
        clause = clause_of(data["children"][event["child"]], title_date_of(data))
        revalued = date.fromisoformat(event["revalued_on"])
        earlier = [d for d in revaluation_dates(clause, revalued) if d < revalued]
        if not earlier:
            assert event["old_cents"] == event["title_cents"]
            continue
        after_another += 1
        try:
            expected: int | None = revalued_on(
                event["title_cents"], clause, earlier[-1], table, field=""
            ).cents
        except IndexMissing:
            expected = None
        assert event["old_cents"] == expected, event
    return after_another


def summary(report: RunReport) -> Any:
    return (
        report.message_id, report.count, report.total_cents, report.skipped,
        [i.as_dict() for i in report.refused], [i.as_dict() for i in report.held],
        report.revalued, {k: v.to_json() for k, v in report.waiting.items()},
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fast.sqlite3'}", f"sqlite:///{tmp_path / 'exact.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database(), server.new_database()


def test_runs_from_profiles_equal_runs_from_the_dossiers(
    urls: tuple[str, str], tmp_path: Path, dev_pki: Path
) -> None:
    rows = list(dossiers(90))
    fast_store, exact_store = open_sql_store(urls[0]), open_sql_store(urls[1])
    try:
        fill(fast_store, rows)
        fill(exact_store, rows)
        with exact_store.engine.begin() as conn:  # the exact path: no profile at all
            conn.execute(delete(schema.collection_profiles))
        with fast_store.engine.begin() as conn:  # one profile of a version this gateway does not read
            conn.execute(
                update(schema.collection_profiles)
                .where(schema.collection_profiles.c.dossier_id == "P00000000003")
                .values(terms='[99,"later"]')
            )
        fast, exact = (
            Env(fast_store, tmp_path / "fast", dev_pki),
            Env(exact_store, tmp_path / "exact", dev_pki),
        )
        seen = {"count": 0, "held": 0, "refused": 0, "revalued": 0}
        for number, period in enumerate(PERIODS):
            at = AT + timedelta(days=31 * number)
            one, two = fast.debits(period, at), exact.debits(period, at)
            assert summary(one) == summary(two), period
            assert state(fast_store) == state(exact_store), period
            assert one.exact_path <= 1  # the profile of another version: its JSON is read
            assert two.exact_path > 1
            seen["count"] += one.count
            seen["held"] += len(one.held)
            seen["refused"] += len(one.refused)
            seen["revalued"] += one.revalued
        assert check_old_amounts(fast_store, {data["dossier_id"]: data for data, _, _ in rows}) > 0
        # the generated store exercises what the fast path must get right
        assert seen["count"] > 80, seen
        assert min(seen.values()) > 0, seen
    finally:
        fast_store.close()
        exact_store.close()


def test_intake_writes_the_profile_with_the_dossier(tmp_path: Path, dev_pki: Path) -> None:
    store = open_sql_store(f"sqlite:///{tmp_path / 'g.sqlite3'}")
    try:
        env = Env(store, tmp_path, dev_pki)
        dossier_id = env.ingest("greffe", (EXAMPLES / "greffe-1.xml").read_bytes())
        d, p = schema.dossiers, schema.collection_profiles
        with store.engine.connect() as conn:
            canonical = conn.execute(
                select(d.c.canonical_json).where(d.c.dossier_id == dossier_id)
            ).scalar_one()
            found = conn.execute(
                select(p.c.terms, p.c.debtor_address).where(p.c.dossier_id == dossier_id)
            ).one()
        assert tuple(found) == profile_of(json.loads(canonical))
        assert found.debtor_address is not None  # the title gives the debtor's address
    finally:
        store.close()
