"""Apply the packaged alembic migrations programmatically (`upgrade head`), without an alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

from gateway.resources import MIGRATIONS_DIR
from gateway.store.engine import BEGIN_MODE_OPTION

# Arbitrary constant key: replicas starting together on PostgreSQL migrate one after the other.
_PG_MIGRATION_LOCK = 0x6761_7465_0001


def alembic_config() -> Config:
    """An alembic Config pointing at the packaged scripts (for `alembic` commands too)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the latest revision; a no-op when it is already there."""
    config = alembic_config()
    with engine.connect() as conn:
        conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
        with conn.begin():
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
