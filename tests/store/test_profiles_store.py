"""Collection profiles in the store (0012_collection_profile): written with each new dossier by
both intake paths, backfilled by the migration for the dossiers stored before it (downgradable),
on SQLite and PostgreSQL (gateway.payments.profile)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select

from gateway.payments.profile import profile_of
from gateway.services.ports import DossierRow
from gateway.services.validation import validate
from gateway.store import create_engine_from_url, open_sql_store, schema, upgrade_to_head
from gateway.store.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _migrate(engine: Engine, how: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, how)(config, revision)


def test_profiles_are_backfilled_then_dropped(sql_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    before = script.get_revision("0012_collection_profile").down_revision
    assert isinstance(before, str)
    dossier = dict(
        validate("greffe", (ROOT / "schemas/examples/greffe-1.xml").read_bytes(), received_at=AT).dossier
    )
    engine = create_engine_from_url(sql_url)
    try:
        _migrate(engine, "upgrade", before)
        with engine.begin() as conn:
            for dossier_id, text in (("D-1", json.dumps(dossier)), ("D-2", '{"dossier_id": "D-2"}')):
                conn.execute(
                    schema.dossiers.insert().values(
                        dossier_id=dossier_id, dedupe_key=dossier_id, source_kind="greffe", sender="t",
                        reference=dossier_id, received_at=AT, canonical_json=text, status="accepted",
                    )
                )  # fmt: skip
        upgrade_to_head(engine)
        t = schema.collection_profiles
        with engine.connect() as conn:
            rows = conn.execute(select(t.c.dossier_id, t.c.terms, t.c.debtor_address)).all()
        # the whole dossier gets what intake writes; a document without terms gets none (the
        # run reads its JSON)
        assert [tuple(r) for r in rows] == [("D-1", *profile_of(dossier))]
        _migrate(engine, "downgrade", before)
        assert "collection_profiles" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _row(dossier_id: str, key: str, canonical: dict[str, object]) -> DossierRow:
    return DossierRow(dossier_id, key, "greffe", "t", dossier_id, AT, json.dumps(canonical), "accepted")


def test_both_intake_paths_write_the_profile_with_the_dossier(sql_url: str) -> None:
    """One title at a time (`create_once`) or an HTTP batch (`create_many`): the new dossiers get
    their profile in the same transaction; a duplicate, or a document without terms, none."""
    dossier = dict(
        validate("greffe", (ROOT / "schemas/examples/greffe-1.xml").read_bytes(), received_at=AT).dossier
    )
    store = open_sql_store(sql_url)
    try:
        with store.transaction() as uow:
            uow.dossiers.create_once(_row("D-1", "k-1", dossier))
            uow.dossiers.create_many(
                [
                    _row("D-2", "k-2", dossier),
                    _row("D-3", "k-1", dossier),
                    _row("D-4", "k-4", {"dossier_id": "D-4"}),
                ]
            )
        t = schema.collection_profiles
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.dossier_id, t.c.terms, t.c.debtor_address).order_by(t.c.dossier_id)
            ).all()
        assert [tuple(r) for r in rows] == [("D-1", *profile_of(dossier)), ("D-2", *profile_of(dossier))]
    finally:
        store.close()
