"""The lines the simulator writes: CloudEvents for back-end facts, and two command types.

Back-end facts are structured-mode CloudEvents 1.0 with a stable id ``sim-<seed>-<n>`` and a
source per simulated party (``urn:relevo-sim:nc``, ``urn:relevo-sim:distributor`` …). They
name the process by a correlation key in ``data`` (never by ``subject``, which relevo reads
as its own process id).

Process starts and customer actions are not back-end facts; in a JSONL file they are written
in time order between the events, as CloudEvent-shaped *command lines*:

* ``relevo.process.start`` — ``data`` is the body of ``POST /v1/processes``;
* ``relevo.process.act`` — ``data`` holds ``kind``, ``key`` (``{name: value}``, the process's
  subject key), ``control`` and the body of ``POST /v1/processes/{id}/actions/{control}``.

``relevo.simulate.player`` replays such a file into a hub (starts and actions through the
services, events through the same intake as ``relevo ingest``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relevo.domain.model import JSON, Action, iso
from relevo.services.processes import StartRequest

START_TYPE = "relevo.process.start"
ACT_TYPE = "relevo.process.act"
COMMAND_TYPES = frozenset({START_TYPE, ACT_TYPE})
SOURCE_PREFIX = "urn:relevo-sim:"


def source(party: str) -> str:
    """The CloudEvents source of a simulated party."""
    return f"{SOURCE_PREFIX}{party}"


def cloudevent(
    *, id: str, party: str, type: str, at: datetime, data: JSON, actor: str | None = None
) -> JSON:
    """A structured-mode CloudEvent 1.0 (keys in a fixed order, so files compare byte-wise)."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": id,
        "source": source(party),
        "type": type,
        "time": iso(at),
        "datacontenttype": "application/json",
        "data": data,
    }
    if actor is not None:
        event["relevoactor"] = actor
    return event


def start_line(id: str, request: StartRequest, at: datetime) -> JSON:
    """The ``relevo.process.start`` command line of ``request`` (its data is the start body)."""
    return cloudevent(
        id=id,
        party=request.channel,
        type=START_TYPE,
        at=at,
        data={
            "kind": request.kind,
            "customer_id": request.customer_id,
            "subject": request.subject,
            "keys": request.keys,
            "attributes": request.attributes,
            "language": request.language,
            "channel": request.channel,
            "actor": request.actor,
            "timezone": request.timezone,
        },
    )


def act_line(id: str, kind: str, key: dict[str, str], action: Action, at: datetime) -> JSON:
    """The ``relevo.process.act`` command line of ``action`` on the process ``kind``/``key``;
    ``id`` is the line's id and the action's request id."""
    return cloudevent(
        id=id,
        party=action.channel,
        type=ACT_TYPE,
        at=at,
        data={
            "kind": kind,
            "key": key,
            "control": action.control,
            "params": action.params,
            "actor": action.actor,
            "channel": action.channel,
            "role": action.role,
            "request_id": id,
        },
    )
