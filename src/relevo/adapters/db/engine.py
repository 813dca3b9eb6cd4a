"""Engine factory: one call turns a configured URL into a ready SQLAlchemy engine."""

from __future__ import annotations

import sqlalchemy as sa

from relevo.adapters.db import dialect


def create_engine(url: str) -> sa.Engine:
    """Create an engine for a SQLite or PostgreSQL URL, set up the way the store expects.

    ``postgresql://`` URLs use psycopg 3. SQLite files get their folder created and run in
    WAL mode with IMMEDIATE write transactions (see ``dialect.configure``), pooling a
    connection for every thread that may read at once (``dialect.engine_options``). Raises
    ``ValueError`` for any other database.
    """
    resolved = dialect.resolve_url(url)
    dialect.prepare_storage(resolved)
    engine = sa.create_engine(resolved, **dialect.engine_options(resolved))
    dialect.configure(engine)
    return engine
