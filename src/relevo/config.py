"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/relevo.db"


@dataclass(frozen=True)
class Settings:
    """Everything relevo needs to know about where it runs.

    ``RELEVO_DATABASE_URL`` picks the store (SQLite file by default, ``postgresql://…`` in
    production); ``RELEVO_CATALOG_DIR`` names a folder whose definitions override or extend
    the shipped catalog.
    """

    database_url: str = DEFAULT_DATABASE_URL
    catalog_dir: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from ``RELEVO_*`` environment variables, with safe defaults."""
        catalog = os.environ.get("RELEVO_CATALOG_DIR")
        return cls(
            database_url=os.environ.get("RELEVO_DATABASE_URL", DEFAULT_DATABASE_URL),
            catalog_dir=Path(catalog) if catalog else None,
        )
