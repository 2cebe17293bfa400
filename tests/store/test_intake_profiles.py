"""The intake's validation process makes each new dossier's collection profile and the store
writes it as it is: the same profile the store makes from the stored canonical JSON
(gateway.payments.profile.profile_or_none), for each source, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from gateway.infra.intake_pool import validation_pool
from gateway.payments.profile import profile_or_none
from gateway.services.intake import Submission, receive_many
from gateway.store import open_sql_store, schema
from tests.fakes import FakeArchive
from tests.unit.intake_support import services_for

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def test_profiles_made_in_the_validation_process_are_those_of_the_stored_json(
    sql_url: str, dev_pki: Path
) -> None:
    store = open_sql_store(sql_url)
    try:
        services = services_for(dev_pki, store, FakeArchive())  # type: ignore[arg-type]
        batch = [
            Submission(source, (EXAMPLES / name).read_bytes(), f"{source}:t")
            for source, name in (
                ("greffe", "greffe-1.xml"),
                ("notaire", "notaire-1.xml"),
                ("avocat", "avocat-1.json"),
                ("greffe", "greffe-1.xml"),  # a duplicate: no second dossier, no second profile
            )
        ]
        with validation_pool(services, 1) as pool:
            results = receive_many(services, batch, executor=pool)
        assert [r.outcome for r in results] == ["accepted", "accepted", "accepted", "duplicate"]
        d, p = schema.dossiers, schema.collection_profiles
        with store.engine.connect() as conn:
            stored = dict(conn.execute(select(d.c.dossier_id, d.c.canonical_json)).all())
            profiles = {
                row.dossier_id: (row.terms, row.debtor_address)
                for row in conn.execute(select(p.c.dossier_id, p.c.terms, p.c.debtor_address))
            }
        assert len(stored) == 3
        assert profiles == {key: profile_or_none(json.loads(text)) for key, text in stored.items()}
    finally:
        store.close()
