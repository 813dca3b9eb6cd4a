"""The application service every entry point (API, pages, CLI, worker) talks to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from relevo.domain.model import JSON, Action, ProcessState
from relevo.domain.parking import DEFAULT_PARK_TTL
from relevo.services import intake, maintenance, outbox_admin, timers
from relevo.services.batch_writing import WriterKind
from relevo.services.catalog import Catalog, UnknownKind
from relevo.services.ingest import Inbound, Ingestor, IngestResult
from relevo.services.limits import Limits
from relevo.services.pipeline import ingest_stream
from relevo.services.processes import KeyInUse, NotFound, Processes, StartRequest
from relevo.services.records import OutboxMessage, Readiness
from relevo.services.state_cache import DEFAULT_CAPACITY, StateCache
from relevo.services.timers import DueTimer, TimerPass
from relevo.services.unit_of_work import Store

__all__ = [
    "DueTimer",
    "Hub",
    "Inbound",
    "IngestResult",
    "KeyInUse",
    "NotFound",
    "StartRequest",
    "TimerPass",
    "UnknownKind",
]


class Hub:
    """Ingest, processes, dead letters and maintenance over one store and one catalog."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        clock: Callable[[], datetime],
        *,
        state_cache: int = DEFAULT_CAPACITY,
        stream_writer: WriterKind = "process",
        park_ttl: timedelta = DEFAULT_PARK_TTL,
        limits: Limits | None = None,
    ) -> None:
        """``state_cache``: how many process states ingest keeps in memory between
        batches (0 turns the cache off); ``stream_writer``: where ``ingest_stream`` writes
        batches (see ``relevo.services.pipeline``); ``park_ttl``: how long a message that
        arrived before its stage waits for it; ``limits``: the policy on received events and
        JSON values (the defaults when ``None``)."""
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.limits = limits or Limits()
        self.ingestor = Ingestor(store, catalog, clock, StateCache(state_cache), park_ttl)
        self.processes = Processes(store, catalog, clock, self.limits)
        self.stream_writer: WriterKind = stream_writer

    def ingest(self, items: Sequence[Inbound]) -> list[IngestResult]:
        """Apply inbound messages in order; one result per item."""
        return self.ingestor.ingest(items)

    def ingest_stream(self, batches: Iterable[Sequence[Inbound]]) -> Iterator[list[IngestResult]]:
        """Apply a stream of batches in order, each in its own transaction, deciding the
        next while the previous one is written; yields each batch's results once committed.
        """
        return ingest_stream(self.ingestor, batches, self.stream_writer)

    def receive(self, items: Sequence[Any]) -> list[IngestResult]:
        """Screen received items as CloudEvents and ingest them (see
        ``relevo.services.intake.ingest``): one result per item, in input order."""
        return intake.ingest(self.ingestor, items, self.clock, self.limits)

    def fire_due_timers(self, *, limit: int = 1000) -> TimerPass:
        """Fire the timers due now on at most ``limit`` processes, as relevo's worker (see
        ``relevo.services.timers``); a timer fired twice is applied once."""
        return timers.fire_due_timers(self.ingestor, limit=limit)

    def fire_timers(self, due: Iterable[DueTimer]) -> TimerPass:
        """Fire these timers now, as relevo (the simulator's worker says which fall due): one
        not yet due is refused, one its process no longer has armed is skipped."""
        return timers.fire_timers(self.ingestor, due)

    def refuse(self, payload: JSON, reason: str) -> None:
        """Keep a whole received body that could not be read as events as a dead letter."""
        intake.refuse(self.ingestor, payload, reason)

    def readiness(self) -> Readiness:
        """Whether the database answers and its schema is the one the code needs."""
        return self.store.readiness()

    def count_processes(self, *, kind: str | None = None, status: str | None = None) -> int:
        """How many processes are stored, optionally of one kind and/or status."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.count_processes(kind=kind, status=status)

    def states(self, ids: Iterable[str]) -> dict[str, ProcessState]:
        """The stored states of the given process ids; unknown ids are absent."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.load_states(ids)

    def outbox(self, after: int = 0, *, except_topic: str | None = None) -> list[OutboxMessage]:
        """Integration messages written after outbox id ``after``, oldest first
        (``except_topic`` leaves one topic out)."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.outbox_messages(after, except_topic=except_topic)

    def last_outbox_id(self) -> int:
        """The id of the newest integration message (0 when there is none)."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.last_outbox_id()

    def close(self) -> None:
        """Release the store's connections; the hub is not used afterwards."""
        self.store.close()

    def start_process(self, request: StartRequest) -> JSON:
        """Open a process and return its status view in the request's language."""
        state = self.processes.start(request)
        return self.processes.view_of(state, request.language)

    def view(self, process_id: str, lang: str, role: str = "customer") -> JSON:
        """The status view of one process; raises NotFound. The agent's view also lists
        every attempt to deliver the process's notifications (``notifications``)."""
        view = self.processes.view(process_id, lang, role)
        if role == "agent":
            view["notifications"] = outbox_admin.attempts_of(
                self.store, process_id, notifications_only=True
            )
        return view

    def find(self, **filters: Any) -> list[JSON]:
        """Process summaries matching the filters (customer_id, key, subject, kind, status)."""
        return self.processes.find(**filters)

    def act(self, process_id: str, action: Action, lang: str) -> JSON:
        """Use a control; returns the new status view or raises ActionRefused / UnknownControl."""
        state = self.processes.act(process_id, action)
        return self.processes.view_of(state, lang, action.role)

    def timeline(self, process_id: str) -> JSON:
        """The audit timeline of a process with its hash chain verified, and every attempt
        to deliver its outbound messages (``deliveries``, oldest first)."""
        timeline = self.processes.timeline(process_id)
        timeline["deliveries"] = outbox_admin.attempts_of(self.store, process_id)
        return timeline

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[JSON]:
        """Dead letters in arrival order (oldest first), as JSON-ready mappings."""
        with self.store.unit_of_work(read_only=True) as uow:
            letters = uow.dead_letters(status, limit)
        return [
            {
                "id": letter.id,
                "received_at": letter.received_at,
                "source": letter.source,
                "message_id": letter.message_id,
                "type": letter.type,
                "reason": letter.reason,
                "status": letter.status,
                "resolved_at": letter.resolved_at,
                "resolution": letter.resolution,
                "payload": letter.payload,
            }
            for letter in letters
        ]

    def replay_dead_letter(self, dead_letter_id: int) -> IngestResult:
        """Try a dead letter again; raises NotFound."""
        return maintenance.replay_dead_letter(self.store, self.ingestor, self.clock, dead_letter_id)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> JSON:
        """Recompute every projection from the log and report differences."""
        return maintenance.rebuild(self.store, self.clock, progress)

    def definitions(self) -> list[JSON]:
        """The catalog: each kind's latest version with stages, incidents and controls."""
        rows = []
        for compiled in self.catalog.all():
            d = compiled.definition
            rows.append(
                {
                    "kind": d.kind,
                    "version": d.version,
                    "latest": self.catalog.latest(d.kind).version == d.version,
                    "title": d.title.model_dump(),
                    "description": d.description.model_dump(),
                    "calendar": d.calendar,
                    "correlation_keys": list(d.correlation_keys),
                    "events": sorted(d.events),
                    "stages": [
                        {
                            "id": s.id,
                            "actor": s.actor,
                            "title": s.title.model_dump(),
                            "description": s.description.model_dump(),
                        }
                        for s in d.stages
                    ],
                    "incidents": [
                        {
                            "code": code,
                            "owner": i.owner,
                            "title": i.title.model_dump(),
                            "what_happened": i.what_happened.model_dump(),
                            "verify": i.verify,
                        }
                        for code, i in d.incidents.items()
                    ],
                    "controls": [
                        {
                            "id": cid,
                            "title": c.title.model_dump(),
                            "allowed_in": list(c.allowed_in),
                            "until": c.until,
                            "emits": list(c.emit),
                        }
                        for cid, c in d.controls.items()
                    ],
                }
            )
        return rows
