"""Firing due timers: the only way a ``timer.fired`` message enters relevo.

The processes table keeps each process's earliest due time (``UnitOfWork.due_timers``); a
pass reads the due processes, takes from each state the timers armed for a moment that has
come, and ingests their ``timer.fired`` messages (``relevo.services.timer_messages``) in
batches through the ingestor's trusted path, which the edge cannot use. The message ids
come from (process, timer, due), so a timer fired twice — two workers, a retry after a
crash — is applied once; a timer whose process moved on before its batch was written is
skipped and recorded nowhere.

A timer that cannot fire (its effects fail) is kept as a dead letter once, and answered as
a duplicate afterwards, so its process stays due and is read by every pass until its
definition is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from relevo.domain.model import Outcome, ProcessState, iso
from relevo.services.chunking import chunks
from relevo.services.inbound import IngestResult
from relevo.services.ingest import Ingestor
from relevo.services.timer_messages import timer_message

#: Timer messages per transaction.
BATCH = 500


class DueTimer(NamedTuple):
    """A timer to fire: ``name`` of process ``process_id``, armed for ``due`` (ISO 8601)."""

    process_id: str
    name: str
    due: str


@dataclass(frozen=True)
class TimerPass:
    """What one pass did: ``fired`` timers applied; ``skipped`` due timers not applied
    because their process moved on or they were already fired; ``results`` one per timer
    message ingested, in order (a rejected one is also kept as a dead letter)."""

    fired: int
    skipped: int
    results: list[IngestResult] = field(default_factory=list)


def fire_due_timers(ingestor: Ingestor, *, limit: int = 1000) -> TimerPass:
    """Fire the timers due at the ingestor's clock, earliest first, on at most ``limit``
    processes (the rest wait for the next pass)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    now = iso(ingestor.clock())
    with ingestor.store.unit_of_work(read_only=True) as uow:
        due = uow.due_timers(now, limit)
        states = uow.load_states([pid for pid, _ in due])
    timers: list[DueTimer] = []
    moved_on = 0
    for pid, _ in due:
        armed = due_now(states.get(pid), now)
        timers.extend(armed)
        moved_on += not armed
    # These states are as committed: handed to the cache, ingest takes them (after checking
    # their version) instead of reading and decoding each again.
    ingestor.states.give_back(states.values())
    done = fire_timers(ingestor, timers)
    return TimerPass(done.fired, done.skipped + moved_on, done.results)


def due_now(state: ProcessState | None, now: str) -> list[DueTimer]:
    """The timers ``state`` has armed for ``now`` (ISO 8601 UTC) or before, earliest
    first; none when the process is unknown or finished."""
    if state is None or not state.active:
        return []
    armed = sorted((due, name) for name, due in state.timers.items() if due <= now)
    return [DueTimer(state.id, name, due) for due, name in armed]


def fire_timers(ingestor: Ingestor, timers: Iterable[DueTimer]) -> TimerPass:
    """Fire ``timers`` now, as relevo itself (the trusted path): in order, in batches.

    The engine refuses a timer whose due moment is still to come or that its process does
    not have armed; the caller says which timers fall due.
    """
    messages = [timer_message(*timer) for timer in timers]
    results: list[IngestResult] = []
    for batch in chunks(messages, BATCH):
        offset = len(results)
        for result in ingestor.ingest(batch, trusted=True):
            result.index += offset
            results.append(result)
    fired = sum(1 for result in results if result.outcome is Outcome.ACCEPTED)
    failed = sum(1 for result in results if result.outcome is Outcome.REJECTED)
    return TimerPass(fired, len(results) - fired - failed, results)
