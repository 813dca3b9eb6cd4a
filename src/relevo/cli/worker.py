"""``relevo worker``: fire due timers and deliver the outbox until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from relevo.bootstrap import build_notifier, build_worker, tune_runtime
from relevo.cli.common import failures, open_hub, out
from relevo.config import Settings
from relevo.services.worker import DEFAULT_BATCH, DEFAULT_IDLE_SECONDS, PassReport


def worker_command(
    once: Annotated[bool, typer.Option("--once", help="Do one pass and exit.")] = False,
    batch: Annotated[
        int,
        typer.Option(
            min=1,
            max=1000,
            help=(
                "Messages claimed per pass (more, up to 2,000, while claims come back full "
                "and the messages are quick)."
            ),
        ),
    ] = DEFAULT_BATCH,
    idle: Annotated[
        float, typer.Option(min=0.05, help="Seconds to rest after a pass that found nothing.")
    ] = DEFAULT_IDLE_SECONDS,
) -> None:
    """Fire due timers and deliver the outbox (signed webhooks, e-mail and SMS to customers)
    until stopped. SIGTERM or Ctrl-C finishes the message in hand and exits.

    Needs RELEVO_LINK_SECRET (the key that signs the links in every message)."""
    tune_runtime()
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        if not stop.is_set():
            out.print(f"{signal.Signals(signum).name}: finishing the message in hand…")
        stop.set()

    with failures(), open_hub() as hub:
        settings = Settings.from_env()
        notifier = build_notifier(settings, hub)
        worker = build_worker(hub, settings, notifier=notifier, batch_size=batch)
        before = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        out.print(f"worker {worker.name} {'does one pass' if once else 'started'}", markup=False)
        try:
            if once:
                _print_pass(worker.run_once(stop))
            else:
                worker.run(stop, _print_busy_pass, idle_seconds=idle)
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)
    out.print("worker stopped")


def _print_busy_pass(report: PassReport) -> None:
    if report.busy:
        _print_pass(report)


def _print_pass(report: PassReport) -> None:
    outcomes = ", ".join(f"{n} {o}" for o, n in sorted(report.outcomes.items())) or "none"
    out.print(
        f"pass: {report.timers_fired} timer(s) fired, {report.milestones} milestone(s), "
        f"{report.claimed} message(s) claimed; attempts: {outcomes}; {report.dead} dead",
        markup=False,
        soft_wrap=True,
    )
