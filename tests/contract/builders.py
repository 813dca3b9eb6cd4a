"""Small builders of domain values for store tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from relevo.domain.model import Event, ProcessState
from relevo.services.records import WriteBatch

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def moment(minutes: int = 0) -> str:
    """An ISO UTC timestamp ``minutes`` after a fixed Monday morning."""
    return (START + timedelta(minutes=minutes)).isoformat()


def digest(*parts: object) -> str:
    """A 64-character hex digest standing in for an event hash."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def make_state(process_id: str = "p-1", **overrides: Any) -> ProcessState:
    """A mobile port-in state with realistic nested data; ``overrides`` replace fields."""
    fields: dict[str, Any] = {
        "id": process_id,
        "kind": "mobile_port_in",
        "definition_version": 1,
        "customer_id": "cust-1",
        "subject": "+34600111222",
        "language": "es",
        "timezone": "Europe/Madrid",
        "channel": "web",
        "created_at": moment(),
        "updated_at": moment(),
        "stage": "requested",
        "version": 1,
        "last_hash": digest(process_id, 1),
        "stage_history": [{"stage": "requested", "entered_at": moment()}],
        "dates": {"requested": {"at": moment(), "confirmed": True}},
        "attributes": {"donor": "Operador Á", "iccid": "8934071234567890123"},
        "keys": {"msisdn": "+34600111222"},
        "timers": {"donor_check_sla": moment(60 * 24)},
        "history": [{"at": moment(), "text": {"es": "Solicitud recibida", "en": "Received"}}],
    }
    fields.update(overrides)
    return ProcessState(**fields)


def make_event(event_type: str = "process.started", minutes: int = 0, **data: Any) -> Event:
    """An event from the portability gateway with the given data."""
    return Event(
        type=event_type,
        occurred_at=moment(minutes),
        recorded_at=moment(minutes + 1),
        actor="system",
        channel="backend",
        data=dict(data),
        effects={"stage": "requested", "record": {"n": minutes}},
        source="portability-gateway",
        message_id=f"msg-{event_type}-{minutes}",
    )


def event_entry(
    process_id: str, version: int, event: Event | None = None
) -> tuple[str, int, Event, str, str]:
    """One ``WriteBatch.events`` entry with a chained hash."""
    prev = digest(process_id, version - 1) if version > 1 else ""
    event = event or make_event(minutes=version)
    return (process_id, version, event, digest(process_id, version), prev)


def start_batch(
    process_id: str = "p-1", *, keys: dict[str, str] | None = None, **overrides: Any
) -> WriteBatch:
    """The batch that creates a process: its first event, its state and its keys."""
    state = make_state(process_id, **overrides)
    key_rows = [(state.kind, name, value, process_id) for name, value in (keys or {}).items()]
    return WriteBatch(
        events=[event_entry(process_id, 1)],
        new_states=[state],
        keys_added=key_rows,
        at=moment(),
    )
