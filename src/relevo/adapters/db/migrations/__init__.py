"""Alembic migrations of the relevo schema (run through ``relevo.adapters.db.migrate``)."""
