"""Reading CloudEvents 1.0 (structured JSON) into inbound messages, with precise errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from relevo.services.ingest import Inbound

REQUIRED = ("specversion", "id", "source", "type")


class InvalidEvent(ValueError):
    """A CloudEvent that cannot be accepted; ``str()`` says what is wrong and how to fix it."""


def parse_event(raw: Any, now: datetime) -> Inbound:
    """The inbound message in ``raw`` (one decoded structured-mode CloudEvent).

    ``time`` defaults to ``now``; extensions ``relevoactor`` and ``relevochannel`` say who
    caused the event and through which channel. Raises InvalidEvent.
    """
    if not isinstance(raw, dict):
        raise InvalidEvent("a CloudEvent must be a JSON object")
    missing = [name for name in REQUIRED if not raw.get(name)]
    if missing:
        raise InvalidEvent(
            f"missing CloudEvents attribute(s): {', '.join(missing)} "
            "(every event needs specversion, id, source and type)"
        )
    for name in (*REQUIRED, "subject", "time", "relevoactor", "relevochannel"):
        if name in raw and raw[name] is not None and not isinstance(raw[name], str):
            raise InvalidEvent(f"CloudEvents attribute {name!r} must be a string")
    if raw["specversion"] != "1.0":
        raise InvalidEvent(f"specversion {raw['specversion']!r} is not supported: send '1.0'")
    data = raw.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidEvent("'data' must be a JSON object (structured mode, application/json)")
    occurred = now
    if raw.get("time"):
        try:
            occurred = datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
        except ValueError:
            raise InvalidEvent(
                f"'time' {raw['time']!r} is not an RFC 3339 timestamp (e.g. 2026-12-01T10:00:00Z)"
            ) from None
        if occurred.tzinfo is None:
            raise InvalidEvent(f"'time' {raw['time']!r} has no UTC offset; add Z or +01:00")
    return Inbound(
        source=raw["source"],
        id=raw["id"],
        type=raw["type"],
        data=data,
        occurred_at=occurred,
        subject=raw.get("subject") or None,
        actor=raw.get("relevoactor") or f"backend:{raw['source']}",
        channel=raw.get("relevochannel") or "backend",
        raw=raw,
    )
