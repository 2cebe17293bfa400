"""Migration scripts, one per schema change, named NNNN_what.py (alembic ignores this file)."""
