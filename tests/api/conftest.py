"""An API over an emptied, migrated database (SQLite, and PostgreSQL when configured) and a
clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from relevo.adapters.db.store import SqlStore

from .builders import Api
from .inbox import Inbox
from .pages import Site, open_site


@pytest.fixture
def api(db_url: str, store: SqlStore, tmp_path: Path) -> Iterator[Api]:
    """A fresh API on an emptied, migrated database, with one key per scope."""
    with open_site(db_url, tmp_path / "uploads", secret=None) as opened:
        yield opened.api


@pytest.fixture
def site(db_url: str, store: SqlStore, tmp_path: Path) -> Iterator[Site]:
    """The API with the customer's pages (link secret ``pages.SECRET``, uploads under
    ``tmp_path``) on an emptied, migrated database."""
    with open_site(db_url, tmp_path / "uploads") as opened:
        yield opened


@pytest.fixture
def inbox(site: Site) -> Inbox:
    """The SMS and e-mails ``site``'s customers receive (``Inbox.deliver`` sends them)."""
    return Inbox(site.api.hub)
