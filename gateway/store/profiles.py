"""Collection profiles in SQL (table `collection_profiles`, 0012_collection_profile).

A dossier's profile is written in the transaction that stores the dossier (gateway.store.sql
`SqlDossiers.create_once`); a dossier's canonical JSON never changes afterwards, so neither does
its profile. Mandates, index values and revaluations are not in it: the run reads them as they
are on the day (docs/collection-run.md).
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, insert

from gateway.payments.profile import profile_or_none
from gateway.store import schema


def save_profile(conn: Connection, dossier_id: str, canonical_json: str) -> bool:
    """Write the profile of a dossier just stored, from its canonical JSON; False when none can
    be made (the run then reads the dossier's JSON)."""
    t = schema.collection_profiles
    found = profile_or_none(json.loads(canonical_json))
    if found is None:
        return False
    conn.execute(insert(t).values(dossier_id=dossier_id, terms=found[0], debtor_address=found[1]))
    return True
