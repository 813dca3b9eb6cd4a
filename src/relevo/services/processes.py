"""Use cases on single processes: start one, act on one, read its view and its timeline."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from relevo.domain import engine
from relevo.domain.compiled import Compiled
from relevo.domain.errors import InvalidStart
from relevo.domain.model import JSON, PARKED, Action, Outcome, ProcessState, iso
from relevo.domain.shapes import KeyValue, key_values, new_key_pairs
from relevo.domain.view import build_view
from relevo.services import limits
from relevo.services.catalog import Catalog
from relevo.services.chain import GENESIS, event_hash
from relevo.services.ingest import MAX_ATTEMPTS, backoff, record_events
from relevo.services.limits import InvalidInput, Limits, json_problems, text_problem
from relevo.services.records import (
    ConcurrencyConflict,
    EventRow,
    InboxRow,
    KeyConflict,
    KeyRow,
    OutboxRow,
    WriteBatch,
)
from relevo.services.reserved import action_source
from relevo.services.unit_of_work import Store


class NotFound(LookupError):
    """The process (or dead letter) does not exist; ``str()`` says which."""


class KeyInUse(Exception):
    """A correlation key given to a new process already identifies an active one."""


@dataclass
class StartRequest:
    """Everything needed to open a process for a customer."""

    kind: str
    customer_id: str
    subject: str
    #: Correlation keys: a value, or several for one name (two numbers of one process).
    keys: dict[str, KeyValue] = field(default_factory=dict)
    attributes: JSON = field(default_factory=dict)
    language: str = "es"
    channel: str = "backend"
    actor: str = "system"
    timezone: str | None = None


def new_process_id() -> str:
    """An unguessable public process id (``prc_`` + 128 random bits)."""
    return "prc_" + secrets.token_urlsafe(16)


class Processes:
    """Starting, acting on and reading individual processes."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        clock: Callable[[], datetime],
        policy: Limits | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.policy = policy or Limits()

    def start(self, request: StartRequest) -> ProcessState:
        """Open a process; raises InvalidInput (a value the store cannot hold), UnknownKind,
        InvalidStart or KeyInUse, all before anything is written."""
        _check_start(request, self.policy)
        compiled = self.catalog.latest(request.kind)
        now = self.clock()
        state, event = engine.start(
            compiled,
            process_id=new_process_id(),
            customer_id=request.customer_id,
            subject=request.subject,
            language=request.language,
            channel=request.channel,
            actor=request.actor,
            attributes=request.attributes,
            keys=request.keys,
            now=now,
            timezone=request.timezone,
        )
        digest = event_hash(GENESIS, state.id, 1, event)
        state.last_hash = digest
        first = EventRow(
            process_id=state.id, version=1, event=event, hash=digest, prev_hash=GENESIS
        )
        batch = WriteBatch(at=iso(now), events=[first])
        batch.new_states.append(state)
        for name, value in new_key_pairs({}, state.keys):
            batch.keys_added.append(
                KeyRow(kind=state.kind, name=name, value=value, process_id=state.id)
            )
        for message in event.effects.get("outbox", ()):
            batch.outbox.append(
                OutboxRow(
                    process_id=state.id,
                    topic=message["topic"],
                    payload=message["payload"],
                    idempotency_key=message["key"],
                    available_at=iso(now),
                )
            )
        with self.store.unit_of_work() as uow:
            try:
                uow.save(batch)
            except KeyConflict as conflict:
                _, name, value = conflict.key
                raise KeyInUse(
                    f"{name}={value!r} already identifies active process {conflict.holder} "
                    f"of kind {request.kind}; finish or cancel that process first, or look it up "
                    "instead of starting a new one"
                ) from None
            uow.commit()
        return state

    def act(self, process_id: str, action: Action) -> ProcessState:
        """Use a control on a process; raises InvalidInput (a value the store cannot
        hold), NotFound, UnknownControl or ActionRefused, all before anything is written.

        A repeated ``request_id`` from the same actor is applied only once.
        """
        _check_action(action, self.policy)
        for attempt in range(MAX_ATTEMPTS):
            with self.store.unit_of_work() as uow:
                state = uow.get_state(process_id)
                if state is None:
                    raise NotFound(_no_process(process_id))
                # In a namespace of its own: no back-end message can claim it beforehand.
                inbox_key = (action_source(action.actor), action.request_id or "")
                if action.request_id and inbox_key in uow.inbox_seen([inbox_key]):
                    return state
                compiled = self.compiled(state)
                now = self.clock()
                event = engine.decide_action(compiled, state, action, now)
                events = [event, *engine.settle(compiled, state, [event], now)]
                batch = WriteBatch(at=iso(now))
                record_events(batch, state, events, iso(now))
                batch.changed_states.append(state)
                if action.request_id:
                    source, message_id = inbox_key
                    batch.inbox.append(
                        InboxRow(
                            source=source,
                            message_id=message_id,
                            process_id=process_id,
                            outcome=Outcome.ACCEPTED.value,
                        )
                    )
                try:
                    uow.save(batch)
                except ConcurrencyConflict:
                    backoff(attempt)
                    continue
                uow.commit()
                return state
        raise ConcurrencyConflict(f"process {process_id} kept changing; try the action again")

    def get(self, process_id: str) -> ProcessState:
        """The stored state; raises NotFound."""
        state = self.store.read_state(process_id)
        if state is None:
            raise NotFound(_no_process(process_id))
        return state

    def view(self, process_id: str, lang: str, role: str = "customer") -> JSON:
        """The status view of a process at this moment, in ``lang``; raises NotFound."""
        state = self.get(process_id)
        return build_view(self.compiled(state), state, self.clock(), lang, role)

    def view_of(self, state: ProcessState, lang: str, role: str = "customer") -> JSON:
        """The status view of a state already in hand."""
        return build_view(self.compiled(state), state, self.clock(), lang, role)

    def compiled(self, state: ProcessState) -> Compiled:
        """The definition version ``state`` is pinned to."""
        return self.catalog.get(state.kind, state.definition_version)

    def find(
        self,
        *,
        customer_id: str | None = None,
        key: tuple[str, str] | None = None,
        subject: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[JSON]:
        """Summaries of the processes matching every given filter, newest first."""
        with self.store.unit_of_work(read_only=True) as uow:
            states = uow.find_processes(
                customer_id=customer_id,
                key=key,
                subject=subject,
                kind=kind,
                status=status,
                limit=limit,
            )
        return [summary(state) for state in states]

    def timeline(self, process_id: str) -> JSON:
        """Every event of a process, oldest first, with the hash chain checked; a
        ``message.parked`` event says whether its message is still ``waiting`` for its stage
        (``parked_status``) or was ``released`` (applied, or expired as a dead letter)."""
        with self.store.unit_of_work(read_only=True) as uow:
            stored = uow.events_of(process_id)
        if not stored:
            raise NotFound(_no_process(process_id))
        broken_at: int | None = None
        prev = GENESIS
        events: list[JSON] = []
        let_go = {
            key for row in stored for key in row.event.effects.get("parked", {}).get("remove", ())
        }
        for row in stored:
            expected = event_hash(prev, process_id, row.version, row.event)
            if broken_at is None and (row.prev_hash != prev or row.hash != expected):
                broken_at = row.version
            prev = row.hash
            events.append(
                {
                    "position": row.position,
                    "version": row.version,
                    "hash": row.hash,
                    "prev_hash": row.prev_hash,
                    **row.event.as_record(),
                }
            )
            if row.event.type == PARKED:
                # Still waiting for its stage, or since applied or let go (``message.expired``).
                waiting = row.event.data.get("key") not in let_go
                events[-1]["parked_status"] = "waiting" if waiting else "released"
        return {
            "process_id": process_id,
            "chain_valid": broken_at is None,
            "broken_at_version": broken_at,
            "events": events,
        }


def summary(state: ProcessState) -> JSON:
    """The short form of a process used in lists and search results."""
    return {
        "id": state.id,
        "kind": state.kind,
        "status": state.status,
        "stage": state.stage,
        "subject": state.subject,
        "customer_id": state.customer_id,
        "keys": dict(state.keys),
        "open_incidents": state.open_incidents(),
        "created_at": state.created_at,
        "updated_at": state.updated_at,
    }


#: How ``act`` names an actor's idempotency records in the inbox: this prefix and the
#: actor together must fit the inbox's source column.
_ACTION_SOURCE = "action:"


def _check_start(request: StartRequest, policy: Limits) -> None:
    """Raise InvalidInput naming every value of ``request`` the store cannot hold, then
    InvalidStart when its time zone is not one relevo can use."""
    problems = _text_problems(
        ("kind", request.kind, limits.KIND),
        ("customer_id", request.customer_id, limits.CUSTOMER_ID),
        ("subject", request.subject, limits.SUBJECT),
        ("channel", request.channel, limits.CHANNEL),
        ("actor", request.actor, limits.ACTOR),
        ("timezone", request.timezone or "", limits.TIME_ZONE),
    )
    for name, value in request.keys.items():
        problems += _text_problems(("keys", name, limits.KEY_NAME))
        for each in key_values(value):
            problems += _text_problems((f"keys.{name[:40]}", each, limits.KEY_VALUE))
    problems += [
        ("attributes", problem)
        for problem in json_problems(request.attributes, "attributes", policy.json_depth)
    ]
    if problems:
        raise InvalidInput(problems)
    if request.timezone and not _known_zone(request.timezone):
        raise InvalidStart(
            f"timezone {request.timezone!r} is not an IANA time zone relevo knows; use a "
            "name such as Europe/Madrid or Atlantic/Canary, or leave it out for the "
            "definition's zone"
        )


def _check_action(action: Action, policy: Limits) -> None:
    """Raise InvalidInput naming every value of ``action`` the store cannot hold."""
    problems = _text_problems(
        ("actor", action.actor, limits.SOURCE - len(_ACTION_SOURCE)),
        ("channel", action.channel, limits.CHANNEL),
        ("request_id", action.request_id or "", limits.MESSAGE_ID),
    )
    problems += [
        ("params", problem) for problem in json_problems(action.params, "params", policy.json_depth)
    ]
    if problems:
        raise InvalidInput(problems)


def _text_problems(*fields: tuple[str, str, int]) -> list[tuple[str, str]]:
    found = []
    for name, value, longest in fields:
        problem = text_problem(name, value, longest)
        if problem is not None:
            found.append((name, problem))
    return found


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _no_process(process_id: str) -> str:
    return (
        f"no process with id {process_id!r}; check the id, or search by customer or "
        "correlation key to find the process"
    )
