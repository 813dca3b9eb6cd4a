"""``relevo demo`` without serving: the database, the key and the guide it leaves behind."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relevo.bootstrap import app_for, build_hub
from relevo.cli import app
from relevo.config import Settings
from relevo.notify_config import NotifySettings
from relevo.services.hub import Hub
from relevo.services.keys import verify_key

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

PROCESSES = 150


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh checkout-like folder with no database configured: the demo's own case."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RELEVO_DATABASE_URL", raising=False)
    monkeypatch.delenv("RELEVO_CATALOG_DIR", raising=False)
    monkeypatch.delenv("RELEVO_LINK_SECRET", raising=False)
    return tmp_path


@contextmanager
def demo_hub(folder: Path) -> Iterator[Hub]:
    """A hub on the demo database that ``relevo demo`` left in ``folder``."""
    hub = build_hub(Settings(database_url=f"sqlite:///{folder / 'var' / 'demo.db'}"))
    try:
        yield hub
    finally:
        hub.store.engine.dispose()


def run_demo(*extra: str) -> str:
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--processes", str(PROCESSES), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_fills_a_database_with_every_kind_and_prints_a_working_key(workdir: Path) -> None:
    output = run_demo()

    key = (workdir / "var" / "demo-key.txt").read_text(encoding="utf-8").strip()
    assert key in output
    assert "http://127.0.0.1:8000/docs" in output
    assert "/v1/processes?kind=mobile_port_in&status=active" in output
    with demo_hub(workdir) as hub:
        found = verify_key(hub.store, key)
        assert found is not None
        assert found.scopes == {"admin"}
        with hub.store.unit_of_work(read_only=True) as uow:
            assert uow.count_processes() == PROCESSES
            empty = [k for k in hub.catalog.kinds() if uow.count_processes(kind=k) == 0]
            assert uow.count_processes(status="active") > 0
            assert uow.count_processes(status="completed") > 0
        assert empty == []
    # Example processes by stage, for a newcomer to open.
    assert "mobile_port_in:stage:scheduled" in output


def test_demo_keep_reuses_the_database_and_a_plain_run_starts_afresh(workdir: Path) -> None:
    run_demo()

    kept = run_demo("--keep")

    assert f"Reusing the demo database: {PROCESSES:,} processes." in kept
    run_demo()
    with demo_hub(workdir) as hub, hub.store.unit_of_work(read_only=True) as uow:
        assert uow.count_processes() == PROCESSES


def test_demo_prints_customer_links_that_open_their_pages(workdir: Path) -> None:
    output = run_demo()
    links = re.findall(r"http://127\.0\.0\.1:8000(/p/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", output)
    assert len(links) >= 3, output
    assert "switch scheduled" in output and "completed" in output
    secret = (workdir / "var" / "relevo-link-secret").read_text(encoding="utf-8").strip()
    with demo_hub(workdir) as hub:
        app = app_for(hub, Settings(notify=NotifySettings(link_secret=secret)))
        with TestClient(app) as client:
            for path in links:
                page = client.get(path)
                assert page.status_code == 200, (path, page.text)
                assert "Hablar con una persona" in page.text
