"""The composition root: the only place that names concrete adapters.

Entry points (the web app, the CLI, the demo, the simulator, the benchmarks) build what
they need here and never open a store or an engine themselves.
"""

from __future__ import annotations

import dataclasses
import gc
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from relevo.adapters.clock import system_clock
from relevo.adapters.db.access_store import SqlAccessStore
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.adapters.mail_log import LogEmailSender
from relevo.adapters.memory import MemoryStore
from relevo.adapters.memory.access_store import MemoryAccessStore
from relevo.adapters.sms import HttpSmsSender, LogSmsSender
from relevo.adapters.smtp import SmtpEmailSender
from relevo.adapters.webhooks import HttpxWebhookSender
from relevo.config import Settings
from relevo.domain.outbox import NOTIFICATION_TOPIC
from relevo.services.access.ports import AccessStore
from relevo.services.catalog import Catalog
from relevo.services.delivery import Deliverer
from relevo.services.hub import Hub
from relevo.services.limits import Limits
from relevo.services.milestones import MilestoneReader
from relevo.services.notifications.notifier import Notifier
from relevo.services.notifications.ports import SmsSender
from relevo.services.notifications.send_log import StoreSendLog
from relevo.services.state_cache import DEFAULT_CAPACITY
from relevo.services.unit_of_work import Store
from relevo.services.webhooks import SubscriptionCache, WebhookDeliverer, WebhookSender
from relevo.services.worker import DEFAULT_BATCH, RetryPolicy, TimerFiring, Worker

if TYPE_CHECKING:
    from fastapi import FastAPI

Clock = Callable[[], datetime]


def tune_runtime() -> None:
    """Process-wide tuning for a service that allocates many short-lived JSON objects.

    Ingest builds and drops thousands of small dicts per batch, none of them in reference
    cycles; with the default thresholds the cycle collector runs hundreds of times per batch
    and walks every live object (catalog, SQLAlchemy) each time — about a fifth of ingest
    time. Collecting young objects every 50,000 allocations keeps it out of the way.
    Long-running entry points (serve, ingest, demo, simulate) call it once at start.
    """
    gc.set_threshold(50_000, 20, 100)


def build_store(settings: Settings) -> SqlStore:
    """The SQL store over the configured database (not migrated here)."""
    return SqlStore(create_engine(settings.database_url), retry_after=settings.retry_after_seconds)


def load_catalog(settings: Settings) -> Catalog:
    """The shipped catalog, with the definitions of ``settings.catalog_dir`` over it."""
    return Catalog.load(settings.catalog_dir)


def build_hub(
    settings: Settings, *, clock: Clock | None = None, catalog: Catalog | None = None
) -> Hub:
    """A Hub over the configured database and catalog (the schema must be migrated).

    ``clock`` defaults to the system clock; ``catalog`` to the configured one (benchmarks
    pass a catalog pinned to the definition versions they mirror). Call ``Hub.close`` when
    done with it.
    """
    return Hub(
        build_store(settings),
        catalog if catalog is not None else load_catalog(settings),
        clock or system_clock,
        state_cache=settings.state_cache,
        stream_writer=settings.ingest_writer,
        park_ttl=settings.park_ttl,
        limits=Limits(event_bytes=settings.max_event_bytes, json_depth=settings.max_json_depth),
    )


def memory_hub(
    *,
    catalog: Catalog | None = None,
    clock: Clock | None = None,
    state_cache: int = DEFAULT_CAPACITY,
) -> Hub:
    """A Hub over an empty in-memory store (tests, experiments): nothing survives it, and
    streams are ingested one batch at a time."""
    return Hub(
        MemoryStore(),
        catalog or Catalog.load(),
        clock or system_clock,
        state_cache=state_cache,
    )


def app_for(
    hub: Hub, settings: Settings | None = None, *, access_clock: Clock | None = None
) -> FastAPI:
    """The HTTP API over ``hub``, configured by ``settings`` (key cache time, body size
    limits, problem type base URL; the defaults when ``None``), with the customer's pages
    when a link secret is configured (their sessions, links and codes timed by
    ``access_clock``, the hub's clock by default)."""
    # Imported here: the web stack (FastAPI, pydantic models) costs a third of a second of
    # start-up, which the CLI commands that serve nothing should not pay.
    from relevo.services.keys import KeyCache
    from relevo.web.app import create_app

    settings = settings or Settings()
    return create_app(
        hub,
        keys=KeyCache(hub.store, ttl=settings.key_cache_seconds),
        max_body_bytes=settings.max_body_bytes,
        max_events_body_bytes=settings.max_events_body_bytes,
        problem_base_url=settings.problem_base_url,
        backlog_stuck_seconds=settings.backlog_stuck_seconds,
        link_secret=settings.notify.link_secret or None,
        upload_dir=settings.upload_dir,
        access=build_access(hub.store),
        access_clock=access_clock,
    )


def build_access(store: Store) -> AccessStore:
    """Where the customer's link uses, one-time codes and rate limits are kept: beside the
    processes, in the same database (or in memory for a memory store)."""
    if isinstance(store, SqlStore):
        return SqlAccessStore(store)
    if isinstance(store, MemoryStore):
        return MemoryAccessStore(store)
    raise TypeError(f"no access records for a {type(store).__name__}")


def build_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The HTTP API over the hub ``build_hub`` gives for ``settings``."""
    return app_for(build_hub(settings, clock=clock), settings)


def app_from_env() -> FastAPI:
    """The app each ``relevo serve --workers N`` worker process builds for itself (uvicorn
    imports it by name): the process tuned as ``tune_runtime`` says, a hub of its own,
    settings from the ``RELEVO_*`` environment variables."""
    tune_runtime()
    return build_app(Settings.from_env())


def schema_revisions(settings: Settings) -> tuple[str | None, str | None]:
    """``(the database's schema revision, the one the code needs)``; ``None``: empty."""
    from relevo.adapters.db import migrate as migrations  # Alembic only when asked

    return migrations.current_revision(settings.database_url), migrations.head_revision()


def migrate(settings: Settings) -> str | None:
    """Migrate the configured database to the code's schema; returns the revision it was
    at before (``None``: it was empty)."""
    from relevo.adapters.db import migrate as migrations  # Alembic only when asked

    before = migrations.current_revision(settings.database_url)
    migrations.upgrade(settings.database_url)
    return before


#: Where the demo keeps the link secret it generated, so its links survive a restart.
DEMO_LINK_SECRET_FILE = Path("var/relevo-link-secret")


def build_notifier(settings: Settings, hub: Hub, *, demo: bool = False) -> Notifier:
    """The deliverer of ``notification.requested`` for ``hub``: SMTP e-mail, the
    configured SMS provider, the send log in the hub's store (the worker records sends
    with their attempts). Raises ValueError without ``RELEVO_LINK_SECRET``, except for the demo
    (``demo=True``), which generates one and keeps it in ``var/relevo-link-secret``."""
    notify = settings.notify
    if demo and not notify.link_secret:
        notify = dataclasses.replace(notify, link_secret=demo_link_secret(DEMO_LINK_SECRET_FILE))
    sms: SmsSender = (
        HttpSmsSender(notify.sms_url, notify.sms_token, notify.sms_from, timeout=notify.sms_timeout)
        if notify.sms_provider == "http"
        else LogSmsSender()
    )
    return Notifier(
        catalog=hub.catalog,
        states=hub.states,
        email=LogEmailSender() if notify.email_provider == "log" else SmtpEmailSender(notify),
        sms=sms,
        log=StoreSendLog(hub.store),
        settings=notify,
    )


def demo_link_secret(path: Path) -> str:
    """The secret kept in ``path``, made (random, owner-only) on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    return secret


def build_worker(
    hub: Hub,
    settings: Settings,
    *,
    notifier: Deliverer | None = None,
    sender: WebhookSender | None = None,
    timers: TimerFiring | None = None,
    name: str | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> Worker:
    """A worker over ``hub``'s store and clock: integration messages go out as signed
    webhooks (``sender``: httpx by default); notifications go to ``notifier``, and stay
    pending for a worker that has one when it is ``None``. Due timers are fired by
    ``timers``, or by the hub itself when it can; CRM milestones are derived from the
    event log while a subscription takes them."""
    if timers is None and isinstance(hub, TimerFiring):
        timers = hub
    active = SubscriptionCache(hub.store)
    webhooks = WebhookDeliverer(active, sender or HttpxWebhookSender())
    return Worker(
        hub.store,
        hub.clock,
        deliverers={NOTIFICATION_TOPIC: notifier} if notifier else {},
        default=webhooks,
        hold=() if notifier else (NOTIFICATION_TOPIC,),
        timers=timers,
        readers=[MilestoneReader(hub.store, hub.clock, active)],
        name=name,
        batch_size=batch_size,
        lease_seconds=settings.worker_lease_seconds,
        retry=RetryPolicy(max_attempts=settings.outbox_max_attempts),
    )
