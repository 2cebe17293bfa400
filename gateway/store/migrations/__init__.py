"""Alembic migrations of the gateway's store, shipped in the package and applied at start."""
