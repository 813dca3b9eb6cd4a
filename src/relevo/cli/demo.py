"""``relevo demo``: a fresh database full of realistic processes, served on localhost."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from relevo.adapters.clock import system_clock
from relevo.bootstrap import (
    DEMO_LINK_SECRET_FILE,
    app_for,
    build_hub,
    build_notifier,
    build_worker,
    demo_link_secret,
    migrate,
    tune_runtime,
)
from relevo.cli.common import failures, out
from relevo.cli.demo_customers import Situation, build_demo_customers
from relevo.cli.demo_links import customer_links, links_table
from relevo.config import Settings
from relevo.services import keys
from relevo.services.hub import Hub
from relevo.services.notifications.access_messages import ACCESS_MESSAGE_PREFIX
from relevo.simulate import SimClock, SimulationOptions, populate, trickle
from relevo.web import access_log

DEMO_DATABASE = Path("var/demo.db")
KEY_FILE = Path("var/demo-key.txt")


def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    processes: Annotated[int, typer.Option(help="How many processes to simulate.")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the simulation (same seed, same story).")] = 7,
    keep: Annotated[
        bool, typer.Option("--keep", help="Reuse the existing demo database instead of a new one.")
    ] = False,
    serve: Annotated[bool, typer.Option(help="Serve the API once the data is loaded.")] = True,
    speed: Annotated[
        float, typer.Option(help="How much faster than real time the live trickle runs.")
    ] = 60.0,
) -> None:
    """Fill var/demo.db with realistic processes of every kind and serve it, live.

    Prints what to open and a demo API key; while it serves, a trickle of simulated
    customers and back-ends keeps the processes moving.
    """
    tune_runtime()
    with failures():
        settings = _served_at(_demo_settings(keep), f"http://{host}:{port}")
        migrate(settings)
        clock = SimClock()
        hub = build_hub(settings, clock=clock)
        summary = _populate(hub, processes, seed, keep)
        with out.status("Building the demo customers…"):
            customers = build_demo_customers(hub, clock)
        _, plaintext = keys.create_key(hub.store, "demo", ["admin"])
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        KEY_FILE.write_text(plaintext + "\n", encoding="utf-8")
    _print_guide(hub, summary, plaintext, host, port, speed)
    _print_links(hub, settings.notify.link_secret, f"http://{host}:{port}", customers)
    if not serve:
        return
    stop = threading.Event()
    world = summary.get("world")
    live = threading.Thread(
        target=trickle,
        args=(hub, stop, SimulationOptions(speed=speed)),
        kwargs={"simulation": world},
        name="relevo-demo-trickle",
        daemon=True,
    )
    live.start()
    # The worker fires due timers and delivers the outbox beside the trickle; webhooks go
    # nowhere until a subscription exists ('relevo subscriptions create').
    worker = threading.Thread(
        target=build_worker(hub, settings, notifier=build_notifier(settings, hub, demo=True)).run,
        args=(stop,),
        name="relevo-demo-worker",
        daemon=True,
    )
    worker.start()
    _show_access_messages()
    try:
        uvicorn.run(
            # The simulated customers move the hub's clock; sessions, links and codes of
            # the person trying the pages follow the wall clock.
            app_for(hub, settings, access_clock=system_clock),
            host=host,
            port=port,
            log_level="warning",
            log_config=access_log.log_config(),
        )
    finally:
        stop.set()
        live.join(timeout=5)
        worker.join(timeout=5)


def _show_access_messages() -> None:
    """Print the new links and one-time codes the demo sends: its SMS and e-mail go to the
    log, and a person trying the customer's page needs them to go on. (The simulated
    customers' other messages stay out of the way.)"""
    handler = logging.StreamHandler()
    handler.addFilter(
        lambda record: str(getattr(record, "message_id", "")).startswith(ACCESS_MESSAGE_PREFIX)
    )
    handler.setFormatter(logging.Formatter("\n[demo message] %(message)s\n"))
    for name in ("relevo.sms", "relevo.email"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def _served_at(settings: Settings, base: str) -> Settings:
    """``settings`` whose messages link to the demo's own server, unless
    RELEVO_PUBLIC_BASE_URL says where the pages are."""
    if os.environ.get("RELEVO_PUBLIC_BASE_URL"):
        return settings
    notify = dataclasses.replace(settings.notify, public_base_url=base)
    return dataclasses.replace(settings, notify=notify)


def _demo_settings(keep: bool) -> Settings:
    """The demo's own SQLite file unless RELEVO_DATABASE_URL names another database; customer
    links signed with the demo's own secret unless RELEVO_LINK_SECRET sets one."""
    configured = Settings.from_env()
    secret = configured.notify.link_secret or demo_link_secret(DEMO_LINK_SECRET_FILE)
    if os.environ.get("RELEVO_DATABASE_URL"):
        notify = dataclasses.replace(configured.notify, link_secret=secret)
        return dataclasses.replace(configured, notify=notify)
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    # Messages to simulated customers are written to the log, never sent.
    quiet = dataclasses.replace(
        configured.notify, email_provider="log", sms_provider="log", link_secret=secret
    )
    return Settings(
        database_url=f"sqlite:///{DEMO_DATABASE}", catalog_dir=configured.catalog_dir, notify=quiet
    )


def _populate(hub: Hub, processes: int, seed: int, keep: bool) -> dict[str, Any]:
    existing = hub.count_processes()
    if keep and existing:
        out.print(f"Reusing the demo database: {existing:,} processes.")
        return {}
    with out.status(f"Simulating {processes:,} customers and the back-ends around them…"):
        options = SimulationOptions(processes=processes, seed=seed, now=datetime.now(UTC))
        result = populate(hub, options)
    if result.missing:
        out.print(f"[yellow]Not reached this time:[/] {escape(', '.join(result.missing))}")
    return {"examples": result.examples, "world": result.world, "by_kind": result.by_kind}


def _print_guide(
    hub: Hub, summary: dict[str, Any], key: str, host: str, port: int, speed: float
) -> None:
    base = f"http://{host}:{port}"
    examples: dict[str, str] = summary.get("examples", {})
    table = Table("what", "process", show_header=True, header_style="bold")
    for label, process_id in examples.items():
        if ":stage:" in label or label.startswith("mobile_port_in:incident:"):
            table.add_row(label, process_id)
    total = hub.count_processes()
    out.print(
        Panel.fit(
            f"[bold]relevo demo[/] — {total:,} processes of every kind in var/demo.db; "
            f"simulated customers and back-ends keep acting at {speed:g}× real time\n\n"
            f"API docs:      {base}/docs\n"
            f"Catalog:       {base}/v1/definitions\n"
            f"Health:        {base}/healthz\n\n"
            f"Demo API key (admin, also in {KEY_FILE}):\n  {key}\n\n"
            "Try:\n"
            f'  curl -H "Authorization: Bearer $(cat {KEY_FILE})" '
            f"'{base}/v1/processes?kind=mobile_port_in&status=active'\n"
            f'  curl -H "Authorization: Bearer $(cat {KEY_FILE})" '
            f"'{base}/v1/processes/<id>?lang=en'",
            title="Open",
        )
    )
    if examples:
        out.print(table)


def _print_links(hub: Hub, secret: str, base: str, customers: list[tuple[Situation, str]]) -> None:
    """One customer link per interesting situation, to open the customer's page."""
    if not secret:
        out.print("Customer pages are off: set RELEVO_LINK_SECRET to serve them.")
        return
    rows = customer_links(hub, secret, base, customers)
    table, width = links_table(rows)
    out.print(
        "[bold]Customer pages[/] — each link signs in as that demo customer (valid 7 days); "
        "Spanish first, English from the page's language switch:"
    )
    # Wider than the terminal if need be: the terminal folds the long lines, but a link
    # cut or shortened by the table would not open.
    wide = Console(file=out.file, width=max(width, out.width), highlight=False)
    wide.print(table)
