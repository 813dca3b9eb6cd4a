"""Ingest: turn a batch of inbound back-end messages into recorded facts, in one transaction.

Per batch, whatever its size: one inbox query (deduplicate), one or two key queries
(correlate), one state query (load), the pure engine for each message in order, then one
set-wise write per table. Per-event cost therefore does not depend on batch size or on how
long a process's history is (its state is a snapshot, never a replay).

Every message ends in exactly one place: applied (``accepted``), parked until its stage
comes (``accepted`` with reason code ``parked``; kept as a dead letter if it never applies),
recorded as an ignored fact (``ignored``), answered as a ``duplicate``, or kept as a dead
letter with its reason (``rejected``). A message re-sent under a received id with a
different content is a ``duplicate`` too (``conflicting_duplicate``): the content received
first stays, and the new one is kept as a dead letter for inspection.

Messages in relevo's own namespace (``relevo.services.reserved``: timers, actions) are
refused unless relevo itself sends them, through a ``trusted`` ingest.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from relevo.domain import engine
from relevo.domain.model import TERMINAL_STATUSES, Event, Message, Outcome, ProcessState, iso
from relevo.domain.parking import DEFAULT_PARK_TTL
from relevo.domain.shapes import new_key_pairs
from relevo.services import reserved, timer_messages
from relevo.services.catalog import Catalog, UnknownKind
from relevo.services.chain import event_hash
from relevo.services.correlation import Correlator
from relevo.services.inbound import (
    CONFLICTING_DUPLICATE,
    Inbound,
    InboundBatch,
    IngestResult,
    content_digest,
    duplicate,
)
from relevo.services.records import (
    ConcurrencyConflict,
    DeadLetterRow,
    EventRow,
    InboxRow,
    KeyConflict,
    KeyRow,
    OutboxRow,
    WriteBatch,
)
from relevo.services.state_cache import StateCache
from relevo.services.unit_of_work import Store, UnitOfWork

__all__ = ["MAX_ATTEMPTS", "Inbound", "InboundBatch", "IngestResult", "Ingestor", "record_events"]

MAX_ATTEMPTS = 8

#: What the inbox knew of each message: ``(source, id)`` → its content digest, if kept.
Received = Mapping[tuple[str, str], str | None]


def backoff(attempt: int) -> None:
    """Sleep a random, growing moment so that writers who collided do not collide again."""
    time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 8)))


def record_events(
    batch: WriteBatch, state: ProcessState, events: Sequence[Event], now: str
) -> None:
    """Apply ``events`` to ``state`` and add their rows (log, outbox, keys) to ``batch``.

    Timers need no rows: they live in the state, which the caller saves once per batch.
    """
    pid = state.id
    for event in events:
        version = state.version + 1
        prev = state.last_hash
        digest = event_hash(prev, pid, version, event)
        effects = event.effects
        # The keys the event adds, against those held before it: a key with several values
        # gets a row for each new one.
        added = new_key_pairs(state.keys, effects["keys"]) if "keys" in effects else ()
        engine.apply(state, event)
        state.last_hash = digest
        batch.events.append(
            EventRow(process_id=pid, version=version, event=event, hash=digest, prev_hash=prev)
        )
        for message in effects.get("outbox", ()):
            batch.outbox.append(
                OutboxRow(
                    process_id=pid,
                    topic=message["topic"],
                    payload=message["payload"],
                    idempotency_key=message["key"],
                    available_at=now,
                )
            )
        for name, value in added:
            batch.keys_added.append(KeyRow(kind=state.kind, name=name, value=value, process_id=pid))
        if effects.get("status") in TERMINAL_STATUSES:
            batch.keys_released.append(pid)
        letter = effects.get("dead_letter")
        if letter is not None:  # a parked message the process let go of
            batch.dead_letters.append(DeadLetterRow(**letter))


class Ingestor:
    """Applies batches of inbound messages through the engine into the store."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        clock: Callable[[], datetime],
        states: StateCache | None = None,
        park_ttl: timedelta = DEFAULT_PARK_TTL,
    ) -> None:
        """``park_ttl``: how long a message that arrived before its stage waits for it."""
        self.store = store
        self.park_ttl = park_ttl
        self.catalog = catalog
        self.clock = clock
        self.states = states if states is not None else StateCache()
        self.correlator = Correlator(catalog)

    def ingest(
        self, items: Sequence[Inbound], *, keep_rejected: bool = True, trusted: bool = False
    ) -> list[IngestResult]:
        """Apply ``items`` in order; one result per item, in the same order.

        Rejected items (and conflicting duplicates) become dead letters unless
        ``keep_rejected`` is false (a replay of a dead letter that fails again must not copy
        it). When ``items`` is an ``InboundBatch``, its refused items become dead letters in
        the same transaction. Only ``trusted`` items (relevo's own, e.g. its due timers) may
        use relevo's namespace; a trusted timer its process no longer has armed is skipped
        (``ignored``, ``timer_moved_on``) and recorded nowhere.
        """
        excluded: dict[int, IngestResult] = {}
        for attempt in range(MAX_ATTEMPTS * 2):
            # Which message of this attempt added each correlation key.
            key_owner: dict[tuple[str, str, str], int] = {}
            with self.store.unit_of_work() as uow:
                try:
                    results, states = self._attempt(
                        uow, items, excluded, key_owner, keep_rejected, trusted
                    )
                    uow.commit()
                    self.states.give_back(states.values())
                    return results
                except ConcurrencyConflict:
                    backoff(attempt)
                    continue
                except KeyConflict as conflict:
                    culprit = _key_culprit(items, conflict, key_owner)
                    if culprit is None:
                        raise
                    excluded[culprit.index] = culprit
        raise ConcurrencyConflict("ingest kept conflicting with concurrent writers; retry")

    def _attempt(
        self,
        uow: UnitOfWork,
        items: Sequence[Inbound],
        excluded: dict[int, IngestResult],
        key_owner: dict[tuple[str, str, str], int],
        keep_rejected: bool,
        trusted: bool,
    ) -> tuple[list[IngestResult], dict[str, ProcessState]]:
        now = self.clock()
        seen = uow.inbox_received((item.source, item.id) for item in items)
        targets = self.correlator.resolve(uow, items).targets
        states = self.load_states(uow, {pid for pid in targets if pid is not None})
        results, batch = self.decide_batch(
            items, now, seen, targets, states, excluded, key_owner, keep_rejected, trusted
        )
        uow.save(batch)
        return results, states

    def decide_batch(
        self,
        items: Sequence[Inbound],
        now: datetime,
        seen: Received,
        targets: Sequence[str | None],
        states: dict[str, ProcessState],
        excluded: dict[int, IngestResult],
        key_owner: dict[tuple[str, str, str], int],
        keep_rejected: bool,
        trusted: bool = False,
    ) -> tuple[list[IngestResult], WriteBatch]:
        """Decide every item in order and collect what to write, without touching the store.

        ``seen`` holds the ``(source, id)`` pairs already received (with their digests),
        ``targets`` the process each item addresses (``correlate``), ``states`` the current
        state of those processes (advanced in place). ``excluded`` items keep the result
        given; ``key_owner`` learns which item added each correlation key. The refused
        items of an ``InboundBatch`` join the batch's dead letters. ``trusted`` as for
        ``ingest``.
        """
        at = iso(now)
        batch = WriteBatch(at=at)
        changed: dict[str, ProcessState] = {}
        batch_keys: dict[tuple[str, str], list[tuple[str, str]]] = {}
        in_batch: dict[tuple[str, str], str | None] = {}
        results: list[IngestResult] = []
        for index, item in enumerate(items):
            key = (item.source, item.id)
            if index in excluded:
                result = excluded[index]
            elif not trusted and (refusal := reserved.refusal(item.source, item.type)):
                result = _rejected(index, item, reserved.REASON_CODE, refusal)
            elif key in in_batch or key in seen:
                result = duplicate(index, item, in_batch[key] if key in in_batch else seen[key])
                if result.reason_code == CONFLICTING_DUPLICATE and keep_rejected:
                    batch.dead_letters.append(_dead_letter(item, result))
                results.append(result)
                continue
            elif trusted and timer_messages.moved_on(item, states.get(targets[index] or "")):
                results.append(timer_messages.skipped(index, item, targets[index]))
                continue
            else:
                keys_before = len(batch.keys_added)
                target = targets[index]
                if item.subject is None and batch_keys:
                    # A key added earlier in this batch (nc_reference from nc.accepted, say)
                    # already correlates the messages after it.
                    target = self.correlator.pick(item, batch_keys) or target
                result = self._one(index, item, target, states, batch, changed, now, at)
                if len(batch.keys_added) > keys_before:
                    for kind, name, value, pid in batch.keys_added[keys_before:]:
                        key_owner[(kind, name, value)] = index
                        batch_keys[(name, value)] = [(kind, pid)]
            refused = result.outcome is Outcome.REJECTED
            if refused and keep_rejected:
                batch.dead_letters.append(_dead_letter(item, result))
            if not refused or trusted:
                # relevo's own messages count as received even when refused: a timer that
                # cannot fire is a duplicate when fired again, not a new dead letter.
                digest = in_batch[key] = content_digest(item)
                batch.inbox.append(
                    InboxRow(item.source, item.id, result.process_id, result.outcome.value, digest)
                )
            results.append(result)
        batch.changed_states.extend(changed.values())
        if isinstance(items, InboundBatch):
            batch.dead_letters.extend(items.refused)
        return results, batch

    def load_states(self, uow: UnitOfWork, ids: set[str]) -> dict[str, ProcessState]:
        """The current states of ``ids`` (unknown ids absent): cached where the stored
        version confirms the entry, read from the store otherwise."""
        if not self.states.enabled:
            return uow.load_states(ids)
        return self.states_at(uow, uow.process_versions(ids))

    def states_at(self, uow: UnitOfWork, versions: Mapping[str, int]) -> dict[str, ProcessState]:
        """The states of the processes in ``versions`` (their stored versions, as read):
        cached where the version confirms the entry, read through ``uow`` otherwise."""
        states = self.states.take(versions)
        missing = [pid for pid in versions if pid not in states]
        if missing:
            states.update(uow.load_states(missing))
        return states

    def _one(
        self,
        index: int,
        item: Inbound,
        target: str | None,
        states: dict[str, ProcessState],
        batch: WriteBatch,
        changed: dict[str, ProcessState],
        now: datetime,
        at: str,
    ) -> IngestResult:
        state = None if target is None else states.get(target)
        if target is None or state is None:
            return _rejected(index, item, "unknown_process", self.correlator.why_uncorrelated(item))
        try:
            compiled = self.catalog.get(state.kind, state.definition_version)
        except UnknownKind as error:
            return _rejected(index, item, "unknown_definition", str(error), target)
        message = Message(
            type=item.type,
            data=item.data,
            occurred_at=item.occurred_at,
            source=item.source,
            id=item.id,
            actor=item.actor,
            channel=item.channel,
        )
        decision = engine.decide(compiled, state, message, now, self.park_ttl)
        if decision.outcome is Outcome.REJECTED:
            code = decision.reason_code or "rejected"
            return _rejected(index, item, code, decision.reason or "", target)
        record_events(batch, state, decision.events, at)
        changed[target] = state
        return IngestResult(
            index,
            item.source,
            item.id,
            decision.outcome,
            target,
            decision.reason,
            decision.reason_code,
        )


def _rejected(
    index: int, item: Inbound, code: str, reason: str, pid: str | None = None
) -> IngestResult:
    return IngestResult(index, item.source, item.id, Outcome.REJECTED, pid, reason, code)


def _dead_letter(item: Inbound, result: IngestResult) -> DeadLetterRow:
    return DeadLetterRow(
        source=item.source,
        message_id=item.id,
        type=item.type,
        payload=_raw(item),
        reason=result.reason or "rejected",
    )


def _key_culprit(
    items: Sequence[Inbound], conflict: KeyConflict, key_owner: dict[tuple[str, str, str], int]
) -> IngestResult | None:
    """The result rejecting the message whose key collided, so the rest can go on."""
    index = key_owner.get(conflict.key)
    if index is None:
        return None
    item = items[index]
    _, name, value = conflict.key
    return IngestResult(
        index,
        item.source,
        item.id,
        Outcome.REJECTED,
        None,
        f"correlation key {name}={value!r} already belongs to active process "
        f"{conflict.holder}; a key can identify only one active process",
        "key_in_use",
    )


def _raw(item: Inbound) -> dict[str, Any]:
    if item.raw:
        return item.raw
    return {
        "specversion": "1.0",
        "id": item.id,
        "source": item.source,
        "type": item.type,
        "subject": item.subject,
        "time": iso(item.occurred_at),
        "data": item.data,
        "relevoactor": item.actor,
        "relevochannel": item.channel,
    }
