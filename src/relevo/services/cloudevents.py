"""CloudEvents 1.0 (JSON format) checked at the edge, before anything reaches the hub.

``parse_event`` turns one decoded JSON value into an ``Inbound`` or a list of precise
problems, so that a batch can report every bad item and still apply the good ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relevo.domain.moments import within_span
from relevo.services import limits
from relevo.services.ingest import Inbound
from relevo.services.limits import SPAN, Limits, text_problem

SPECVERSION = "1.0"
REQUIRED = ("id", "source", "type")
ACTOR = "relevoactor"
CHANNEL = "relevochannel"
DEFAULT_CHANNEL = "backend"
OPTIONAL = ("subject", ACTOR, CHANNEL, "datacontenttype", "time")
#: The longest text of each string attribute: what the store's columns hold (the subject
#: is a process id; the others are read, never stored).
LONGEST = {
    "id": limits.MESSAGE_ID,
    "source": limits.SOURCE,
    "type": limits.EVENT_TYPE,
    "subject": limits.PROCESS_ID,
    ACTOR: limits.ACTOR,
    CHANNEL: limits.CHANNEL,
    "datacontenttype": 200,
    "time": 64,
}
#: Attributes checked one by one; every other member is checked as JSON content.
_ATTRIBUTES = frozenset(("specversion", *REQUIRED, *OPTIONAL))
_DEFAULT_LIMITS = Limits()

#: Media types a structured-mode event may declare for its ``data``.
_JSON_TYPES = ("application/json", "text/json")


@dataclass
class Invalid:
    """An item that is not a valid CloudEvent: what is wrong, and what it claimed to be."""

    problems: list[str]
    raw: Any

    @property
    def reason(self) -> str:
        """Every problem in one sentence-like line."""
        return "invalid CloudEvent: " + "; ".join(self.problems)

    def attribute(self, name: str) -> str | None:
        """The item's ``name`` attribute when it is a usable string (for the report)."""
        if isinstance(self.raw, dict):
            value = self.raw.get(name)
            if isinstance(value, str) and value:
                return value
        return None


def parse_event(
    raw: Any,
    now: Callable[[], datetime],
    policy: Limits = _DEFAULT_LIMITS,
    encoded: bytes | None = None,
) -> Inbound | Invalid:
    """``raw`` as an ``Inbound`` if it is a valid structured-mode CloudEvent 1.0.

    Required: ``specversion`` "1.0", non-empty string ``id``, ``source`` and ``type``.
    Optional: ``subject`` (the relevo process id), ``time`` (RFC 3339 with an offset; missing
    means ``now()``), ``datacontenttype`` (JSON only), ``data`` (an object) and the
    extensions ``relevoactor`` (default ``backend:<source>``) and ``relevochannel`` (default
    ``backend``). Every string attribute fits its column (``LONGEST``); the time lies in the
    span relevo handles; no text holds a NUL character, and ``data`` nests no deeper than
    ``policy`` allows (``encoded``, the event's JSON text when known, makes that check
    cheap). Otherwise an ``Invalid`` naming every problem.
    """
    if not isinstance(raw, dict):
        return Invalid([f"each event must be a JSON object, not {_json_kind(raw)}"], raw)
    problems: list[str] = []
    version = raw.get("specversion")
    if version is None:
        problems.append(f"missing required attribute 'specversion' (use {SPECVERSION!r})")
    elif version != SPECVERSION:
        problems.append(f"specversion must be {SPECVERSION!r}, not {version!r}")
    attributes: dict[str, str] = {}
    for name in REQUIRED:
        value = raw.get(name)
        if value is None:
            problems.append(f"missing required attribute {name!r}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"attribute {name!r} must be a non-empty string")
        elif (problem := text_problem(f"attribute {name!r}", value, LONGEST[name])) is not None:
            problems.append(problem)
        else:
            attributes[name] = value
    optional = {}
    for name in OPTIONAL:
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(f"attribute {name!r} must be a non-empty string when present")
        elif value is None:
            continue
        elif (problem := text_problem(f"attribute {name!r}", value, LONGEST[name])) is not None:
            problems.append(problem)
        else:
            optional[name] = value.strip()
    content_type = optional.get("datacontenttype")
    if content_type is not None and not _is_json(content_type):
        problems.append(
            f"datacontenttype {content_type!r} is not supported: data must be JSON "
            "(application/json)"
        )
    if "data_base64" in raw:
        problems.append("data_base64 is not supported: send data as a JSON object")
    data = raw.get("data")
    if data is None:
        data = {}
    elif not isinstance(data, dict):
        problems.append(f"data must be a JSON object, not {_json_kind(data)}")
    occurred_at = now()
    if "time" in optional:
        moment = _rfc3339(optional["time"])
        if moment is None:
            problems.append(
                f"time {optional['time']!r} is not an RFC 3339 timestamp with an offset, "
                "e.g. 2025-03-03T10:00:00+01:00 or 2025-03-03T09:00:00Z"
            )
        elif not within_span(moment):
            problems.append(f"time {optional['time']!r} is out of range: relevo takes times {SPAN}")
        else:
            occurred_at = moment
    problems += policy.content_problems(raw, encoded, _ATTRIBUTES)
    if problems:
        return Invalid(problems, raw)
    return Inbound(
        source=attributes["source"],
        id=attributes["id"],
        type=attributes["type"],
        data=data,
        occurred_at=occurred_at,
        subject=optional.get("subject"),
        actor=optional.get(ACTOR, f"backend:{attributes['source']}"),
        channel=optional.get(CHANNEL, DEFAULT_CHANNEL),
        raw=raw,
    )


def _rfc3339(text: str) -> datetime | None:
    # fromisoformat also takes dates alone and compact forms; RFC 3339 needs the full
    # date-time with an offset.
    if len(text) < 20 or text[10] not in "Tt ":
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _is_json(media_type: str) -> bool:
    essence = media_type.split(";", 1)[0].strip().lower()
    return essence in _JSON_TYPES or essence.endswith("+json")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "an object"
