"""The collection profile: what the monthly run reads of a dossier instead of its canonical JSON
(its terms as a compact text and the debtor's hybrid address: gateway.payments.profile,
docs/collection-run.md). Existing dossiers are backfilled here, a page at a time; a dossier whose
profile cannot be made is left without one and the run reads its JSON, as before.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0012_collection_profile"
down_revision = "0008_bank_outbox"  # chained at merge
branch_labels = None
depends_on = None

PAGE = 2_000


def upgrade() -> None:
    op.create_table(
        "collection_profiles",
        sa.Column(
            "dossier_id",
            sa.String(64),
            sa.ForeignKey("dossiers.dossier_id", name="fk_collection_profiles_dossier"),
            primary_key=True,
        ),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("debtor_address", sa.Text(), nullable=True),
    )
    backfill(op.get_bind())


def backfill(conn: sa.Connection) -> None:
    """A profile for every dossier that has none, in dossier id order, a page at a time."""
    from gateway.payments.profile import profile_or_none

    dossiers = sa.table(
        "dossiers", sa.column("dossier_id", sa.String()), sa.column("canonical_json", sa.Text())
    )
    profiles = sa.table(
        "collection_profiles",
        sa.column("dossier_id", sa.String()),
        sa.column("terms", sa.Text()),
        sa.column("debtor_address", sa.Text()),
    )
    last = ""
    while True:
        rows = conn.execute(
            sa.select(dossiers.c.dossier_id, dossiers.c.canonical_json)
            .where(dossiers.c.dossier_id > last)
            .order_by(dossiers.c.dossier_id)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        values = []
        for dossier_id, canonical in rows:
            found = profile_or_none(json.loads(canonical))
            if found is not None:
                values.append({"dossier_id": dossier_id, "terms": found[0], "debtor_address": found[1]})
        if values:
            conn.execute(profiles.insert(), values)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table("collection_profiles")
