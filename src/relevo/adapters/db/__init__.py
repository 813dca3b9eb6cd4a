"""The SQL store: SQLAlchemy Core tables, engine set-up, migrations and the unit of work."""
