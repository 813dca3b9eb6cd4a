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
from relevo.cli.demo_customers import SITUATIONS
from relevo.config import Settings
from relevo.notify_config import NotifySettings
from relevo.services.hub import Hub
from relevo.services.keys import verify_key

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

PROCESSES = 150
#: The simulated processes plus the demo customers' own.
STORED = PROCESSES + sum(len(situation.stories) for situation in SITUATIONS)


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
            assert uow.count_processes() == STORED
            empty = [k for k in hub.catalog.kinds() if uow.count_processes(kind=k) == 0]
            assert uow.count_processes(status="active") > 0
            assert uow.count_processes(status="completed") > 0
        assert empty == []
    # Example processes by stage, for a newcomer to open.
    assert "mobile_port_in:stage:scheduled" in output


def test_demo_keep_reuses_the_database_and_a_plain_run_starts_afresh(workdir: Path) -> None:
    run_demo()

    kept = run_demo("--keep")

    assert f"Reusing the demo database: {STORED:,} processes." in kept
    run_demo()
    with demo_hub(workdir) as hub, hub.store.unit_of_work(read_only=True) as uow:
        assert uow.count_processes() == STORED


#: What each demo customer's page must say, in Spanish and in English.
EXPECTED = {
    "demo-scheduled": (["Tu número pasa a nosotros el", "fecha confirmada"], ["Your number moves"]),
    "demo-rejected-id": (
        ["el documento no coincide", "Enviar tu documento", "Falta"],
        ["the ID does not match", "Send your ID", "Missing"],
    ),
    "demo-document": (["Foto de tu tarjeta SIM", "Falta"], ["Photo of your SIM card", "Missing"]),
    "demo-postponed": (
        ["Cambiar la fecha — Motivo: Voy a estar de viaje", "Nueva fecha de cambio confirmada"],
        ["Change the date — Reason: I am travelling", "New switch date confirmed"],
    ),
    "demo-completed": (["Tu número ya funciona con nosotros."], ["Your number now works with us."]),
    # mobile_port_in v2: the cancelled stage says where the number is, not who cancelled.
    "demo-cancelled": (
        ["Tu número está con la compañía que tenía antes."],
        ["Your number is with the provider it had before."],
    ),
    "demo-several": (["Tu número pasa a nosotros el"], ["Your number moves"]),
}


def test_demo_prints_a_link_per_situation_and_each_page_reads_right(workdir: Path) -> None:
    output = run_demo()
    found = re.findall(
        r"(demo-[a-z-]+) +http://127\.0\.0\.1:8000(/p/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", output
    )
    links = dict(found)
    assert list(links) == list(EXPECTED), output
    for situation in (
        "switch scheduled",
        "donor rejected the ID",
        "document missing",
        "postponed",
        "completed",
        "cancelled",
        "several processes",
    ):
        assert situation in output
    secret = (workdir / "var" / "relevo-link-secret").read_text(encoding="utf-8").strip()
    with demo_hub(workdir) as hub:
        app = app_for(hub, Settings(notify=NotifySettings(link_secret=secret)))
        for customer, path in links.items():
            for lang, expected in zip(("es", "en"), EXPECTED[customer], strict=True):
                with TestClient(app) as client:
                    page = client.get(path, headers={"Accept-Language": lang})
                    assert page.status_code == 200, (customer, page.text)
                    words = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
                    for text in expected:
                        assert text in words, (customer, lang, text, words)
                    if customer == "demo-several":
                        listed = client.get("/my")
                        assert listed.text.count('class="card"') == 2
                        assert "En curso" in listed.text or "In progress" in listed.text


def test_demo_customers_are_built_once_and_the_same_every_run(workdir: Path) -> None:
    run_demo()
    with demo_hub(workdir) as hub:
        first = _situations(hub)
    run_demo("--keep")
    with demo_hub(workdir) as hub:
        assert _situations(hub) == first
    run_demo()
    with demo_hub(workdir) as hub:
        assert _situations(hub) == first
    assert first["demo-cancelled"] == [("cancelled", "donor_check")]
    # mobile_port_in v2: a ported process stays open for the 14-day withdrawal period.
    assert first["demo-completed"] == [("active", "active")]
    assert sorted(first["demo-several"]) == [("active", "active"), ("active", "scheduled")]


def _situations(hub: Hub) -> dict[str, list[tuple[str, str]]]:
    """Each demo customer's processes as (status, stage)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for situation in SITUATIONS:
        rows = hub.find(customer_id=situation.customer_id, limit=10)
        states = hub.states([row["id"] for row in rows])
        found[situation.customer_id] = [(s.status, s.stage) for s in states.values()]
    return found
