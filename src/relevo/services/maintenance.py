"""Operator work on the store: rebuilding projections from the log, replaying dead letters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from relevo.domain import engine, parking
from relevo.domain.model import JSON, Outcome, ProcessState, iso
from relevo.services.chunking import chunks
from relevo.services.cloudevents import Invalid, parse_event
from relevo.services.ingest import Ingestor, IngestResult
from relevo.services.processes import NotFound
from relevo.services.records import WriteBatch
from relevo.services.unit_of_work import Store

REBUILD_CHUNK = 200
#: The projection's columns that copy state values, as ``projection_columns`` returns them.
COLUMN_NAMES = ("status", "stage", "version", "updated_at", "next_timer_at")


def _projection_columns(state: ProcessState) -> tuple[Any, ...]:
    return (state.status, state.stage, state.version, state.updated_at, state.next_timer_at)


def rebuild(
    store: Store,
    clock: Callable[[], datetime],
    progress: Callable[[int, int], None] | None = None,
) -> JSON:
    """Recompute every projection from its event log, report and repair any difference.

    Returns ``{"processes", "events", "differences": [{"process_id", "fields"}]}``; after it
    every projection equals the fold of its log. ``fields`` names the state's fields that
    differed, and ``column:NAME`` for a projection column (indexed copies of state values,
    such as ``next_timer_at``) that no longer matched its state.
    """
    with store.unit_of_work(read_only=True) as uow:
        total = uow.count_processes()
        ids = list(uow.iter_process_ids())
    differences: list[JSON] = []
    events_seen = 0
    done = 0
    for chunk in chunks(ids, REBUILD_CHUNK):
        with store.unit_of_work() as uow:
            stored_states = uow.load_states(chunk)
            stored_columns = uow.projection_columns(chunk)
            fixed = []
            for process_id in chunk:
                stored_events = uow.events_of(process_id)
                events_seen += len(stored_events)
                rebuilt = engine.replay(process_id, [row.event for row in stored_events])
                rebuilt.last_hash = stored_events[-1].hash
                current = stored_states.get(process_id)
                before = current.to_json() if current else {}
                after = rebuilt.to_json()
                fields = sorted(k for k in after if before.get(k) != after[k])
                columns = _projection_columns(rebuilt)
                stored = stored_columns.get(process_id, ())
                fields += [
                    f"column:{name}"
                    for name, value, was in zip(COLUMN_NAMES, columns, stored, strict=False)
                    if value != was
                ]
                if fields:
                    differences.append({"process_id": process_id, "fields": fields})
                    fixed.append(rebuilt)
            if fixed:
                uow.save(WriteBatch(at=iso(clock()), changed_states=fixed))
                uow.commit()
        done += len(chunk)
        if progress:
            progress(done, total)
    return {"processes": done, "events": events_seen, "differences": differences}


def replay_dead_letter(
    store: Store, ingestor: Ingestor, clock: Callable[[], datetime], dead_letter_id: int
) -> IngestResult:
    """Feed a dead letter through ingest again; mark it replayed unless it fails again."""
    with store.unit_of_work(read_only=True) as uow:
        letter = uow.get_dead_letter(dead_letter_id)
    if letter is None:
        raise NotFound(f"no dead letter with id {dead_letter_id}")
    if letter.status != "open":
        raise NotFound(f"dead letter {dead_letter_id} is already {letter.status}")
    now = clock()
    inbound = parse_event(letter.payload, lambda: now)
    if isinstance(inbound, Invalid):
        return IngestResult(
            0,
            letter.source,
            letter.message_id,
            Outcome.REJECTED,
            reason=inbound.reason,
            reason_code="invalid_event",
        )
    result = ingestor.ingest([inbound], keep_rejected=False)[0]
    if result.outcome is Outcome.DUPLICATE and letter.reason.endswith(parking.LET_GO):
        # The message was received once and waited for its stage until it expired: its id
        # is taken, so a replay cannot apply it. Nothing changed; the letter stays open.
        result.reason = (
            f"{result.reason}; it waited for its stage and expired, so it cannot be applied "
            "under the same id: have the sender send it again with a new id, or discard this "
            "dead letter"
        )
        result.reason_code = "expired_while_waiting"
        return result
    if result.outcome is not Outcome.REJECTED:
        with store.unit_of_work() as uow:
            uow.resolve_dead_letter(
                dead_letter_id, "replayed", f"{result.outcome.value}: {result.process_id}", iso(now)
            )
            uow.commit()
    return result
