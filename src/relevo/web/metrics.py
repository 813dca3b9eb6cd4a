"""``/metrics``: the outbox and timers in the Prometheus text format, read from the store
at each scrape, so every API process and worker tells the same numbers."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from starlette.concurrency import run_in_threadpool

from relevo.services import outbox_admin
from relevo.services.hub import Hub

router = APIRouter(tags=["health"])


class BacklogCollector(Collector):
    """Collects the backlog figures of one hub when scraped."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        """The gauges of one scrape."""
        backlog = outbox_admin.backlog(self.hub.store, self.hub.clock)
        lag = GaugeMetricFamily(
            "relevo_due_timer_lag_seconds", "How long the oldest due timer has been waiting."
        )
        lag.add_metric([], backlog.timer_lag)
        yield lag
        oldest = GaugeMetricFamily(
            "relevo_outbox_oldest_due_seconds", "How long the oldest due message has waited."
        )
        oldest.add_metric([], backlog.oldest_due_age)
        yield oldest
        entries = GaugeMetricFamily(
            "relevo_outbox_messages",
            "Outbox messages by topic, channel and state.",
            labels=["topic", "channel", "state"],
        )
        for count in backlog.stats.backlog:
            channel = outbox_admin.channel_of(count.topic)
            entries.add_metric([count.topic, channel, count.status], count.entries)
        yield entries
        # A gauge read from the table (it can drop when attempts are purged), not a
        # process-local counter that each API process would count differently.
        attempts = GaugeMetricFamily(
            "relevo_delivery_attempts", "Recorded delivery attempts by outcome.", labels=["outcome"]
        )
        for outcome, n in sorted(backlog.stats.attempts.items()):
            attempts.add_metric([outcome], n)
        yield attempts


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Due-timer lag, outbox backlog by topic, channel and state, attempts by outcome."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BacklogCollector(request.app.state.hub))
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
