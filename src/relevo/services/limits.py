"""Every limit on what relevo takes in, in one place, and the checks that name them.

Two kinds of limit:

* What the store can hold: the longest text of each column a received value lands in
  (``relevo.adapters.db.tables`` declares the same lengths; a contract test checks that
  they agree), the range of integer ids, the span of moments (``relevo.domain.moments``),
  and text without NUL characters (PostgreSQL cannot store them) or lone surrogates (not
  text at all).
* Policy, set by the operator through ``Settings``: how large a request body and a single
  event may be, and how deep received JSON may nest (``Limits``).

The checks return problems as sentences naming the field and the limit, so that every
entry point refuses the same inputs with the same words, before anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from relevo.domain.moments import SPAN

__all__ = ["SPAN", "InvalidInput", "Limits", "json_problems", "size_text", "text_problem"]

# The longest text (in characters) of the columns received values are stored in.
MESSAGE_ID = 200  # inbox, events and dead letters: a CloudEvent id, an action's request id
SOURCE = 200  # inbox, events and dead letters
EVENT_TYPE = 100  # events and dead letters
ACTOR = 200  # events
CHANNEL = 40  # events
PROCESS_ID = 40  # processes
KIND = 100  # processes and correlation keys
CUSTOMER_ID = 100  # processes
SUBJECT = 200  # processes, and the value of the subject's correlation key
KEY_NAME = 100  # correlation keys
KEY_VALUE = 200  # correlation keys
#: Not stored in a column of its own; IANA zone names are far shorter.
TIME_ZONE = 64

#: The largest id an integer id column holds (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1
#: Integers in received JSON must fit in 64 bits: the store's JSON encoder refuses larger
#: ones (and systems reading the data would lose precision).
MIN_JSON_INT, MAX_JSON_INT = -(2**63), 2**64 - 1

KIB = 1024
MIB = 1024 * KIB
#: Default policy; see ``Limits`` and ``relevo.config.Settings``.
DEFAULT_BODY_BYTES = 1 * MIB
#: Generous on purpose: back-ends send thousands of events per request.
DEFAULT_EVENTS_BODY_BYTES = 64 * MIB
DEFAULT_EVENT_BYTES = 256 * KIB
DEFAULT_JSON_DEPTH = 32
#: The deepest nesting an operator may allow: the store's JSON encoder stops at 254
#: levels, and stored records wrap received values a few levels deeper.
MOST_JSON_DEPTH = 200
#: How much of a refused item's text its dead letter keeps.
KEPT_BYTES = 64 * KIB
#: How many problems of one value are named before the rest are left out.
_SHOWN = 5


class InvalidInput(ValueError):
    """A request carries values the store cannot hold or the policy refuses.

    ``problems`` lists ``(field, what is wrong)`` (each sentence names its field too);
    ``str()`` joins the sentences.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(what for _, what in problems))
        self.problems = problems


@dataclass(frozen=True)
class Limits:
    """The operator's policy on received events and JSON values.

    ``event_bytes``: the largest single event (as JSON); ``json_depth``: how many levels
    of objects and arrays a received value (an event's ``data``, a process's attributes,
    an action's params) may nest.
    """

    event_bytes: int = DEFAULT_EVENT_BYTES
    json_depth: int = DEFAULT_JSON_DEPTH

    def too_large(self, encoded: bytes) -> str | None:
        """Why an event of JSON text ``encoded`` is refused for its size, or ``None``."""
        if len(encoded) <= self.event_bytes:
            return None
        return (
            f"the event is {len(encoded):,} bytes of JSON; one event may be at most "
            f"{size_text(self.event_bytes)}: send large documents by reference (a URL or an "
            "id in data) instead"
        )

    def content_problems(
        self, raw: dict[str, Any], encoded: bytes | None, checked: frozenset[str] = frozenset()
    ) -> list[str]:
        """What is wrong with the members of the JSON object ``raw`` (``encoded``: its JSON
        text when known) apart from those in ``checked``: NUL characters or lone surrogates
        in any name or text, nesting deeper than ``json_depth``, integers beyond 64 bits,
        numbers that are not finite.

        Cheap for the common event: its JSON text shows at a glance that none can occur.
        """
        if encoded is None:
            try:
                encoded = orjson.dumps(raw)
            except TypeError:
                encoded = None
        if encoded is not None and _plainly_fine(encoded, self.json_depth + 1):
            return []
        problems: list[str] = []
        for name, value in raw.items():
            if name in checked:
                continue
            problems += _name_problems(name, "attribute name")
            problems += json_problems(value, _label(name), self.json_depth)
        if not problems and encoded is None:
            problems.append("the event cannot be written as JSON")
        return problems[:_SHOWN]


def text_problem(name: str, value: str, limit: int) -> str | None:
    """What is wrong with ``value`` as the text of field ``name``: longer than ``limit``
    characters, or holding a character no store keeps; ``None`` when it is fine."""
    if len(value) > limit:
        return f"{name} is {len(value):,} characters long; at most {limit} are allowed"
    return _character_problem(name, value)


def json_problems(value: Any, where: str, depth: int) -> list[str]:
    """What keeps the JSON ``value`` (found at ``where``, e.g. ``data``) from being stored:
    text with NUL characters or lone surrogates (names included), more than ``depth`` levels
    of nesting, integers beyond 64 bits, numbers that are not finite. At most a few are
    named."""
    problems: list[str] = []
    for path, item, level in _walk(value, where):
        if isinstance(item, dict | list) and level > depth:
            problems.append(
                f"{where} nests deeper than {depth} levels (at {_short(path)}); at most "
                f"{depth} levels are allowed"
            )
            if len(problems) >= _SHOWN:
                break
            continue
        problem = _scalar_problem(path, item)
        if problem is not None:
            problems.append(problem)
            if len(problems) >= _SHOWN:
                break
    return problems


def size_text(size: int) -> str:
    """``size`` bytes in words: ``64 MiB``, ``256 KiB`` or ``1000 bytes``."""
    if size >= MIB and size % MIB == 0:
        return f"{size // MIB} MiB"
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} bytes"


def kept_form(raw: Any, encoded: bytes | None, depth: int) -> dict[str, Any]:
    """What a dead letter keeps of a refused item: the item itself when it can be stored
    whole; its JSON text cut to ``KEPT_BYTES`` when it is too large; else a copy cut at
    ``depth`` levels with every value the store refuses replaced by a description."""
    if encoded is not None and len(encoded) > KEPT_BYTES:
        text = encoded[:KEPT_BYTES].decode("utf-8", errors="replace")
        return {"truncated": text, "bytes": len(encoded)}
    if encoded is not None and _plainly_fine(encoded, depth + 1):
        return raw if isinstance(raw, dict) else {"value": raw}
    clipped = _clip(raw, depth + 1)
    return clipped if isinstance(clipped, dict) else {"value": clipped}


def _plainly_fine(encoded: bytes, depth: int) -> bool:
    # No escaped NUL, and too few brackets to nest deeper than ``depth`` (a bracket inside
    # a string only sends the value to the exact check).
    return b"\\u0000" not in encoded and encoded.count(b"{") + encoded.count(b"[") <= depth


def _walk(value: Any, where: str) -> Iterator[tuple[str, Any, int]]:
    """Every value inside ``value`` (itself first) with its path and its nesting level
    (``value`` at 1); depth-first, without recursion, so any depth is safe. Names of
    object members come as ``(path, name, 0)``."""
    stack: list[tuple[str, Any, int]] = [(where, value, 1)]
    while stack:
        path, item, level = stack.pop()
        yield path, item, level
        if isinstance(item, dict):
            members = list(item.items())
            for name, _ in members:
                yield path, _Name(name), 0
            stack.extend((f"{path}.{name}", child, level + 1) for name, child in reversed(members))
        elif isinstance(item, list):
            indexed = list(enumerate(item))
            stack.extend((f"{path}[{n}]", child, level + 1) for n, child in reversed(indexed))


class _Name(str):
    """An object member's name, told apart from a text value while walking."""

    __slots__ = ()


def _scalar_problem(path: str, item: Any) -> str | None:
    if isinstance(item, _Name):
        problems = _name_problems(str(item), f"a name in {_short(path)}")
        return problems[0] if problems else None
    if isinstance(item, str):
        return _character_problem(_short(path), item)
    if isinstance(item, bool) or item is None or isinstance(item, dict | list):
        return None
    if isinstance(item, int):
        if not MIN_JSON_INT <= item <= MAX_JSON_INT:
            return (
                f"{_short(path)} is an integer beyond 64-bit range ({MIN_JSON_INT} to "
                f"{MAX_JSON_INT}); send such numbers as text"
            )
        return None
    if isinstance(item, float):
        return None if math.isfinite(item) else f"{_short(path)} is not a finite number"
    return f"{_short(path)} is not a JSON value ({type(item).__name__})"


def _name_problems(name: Any, what: str) -> list[str]:
    if not isinstance(name, str):
        return [f"{what} {name!r} is not text"]
    problem = _character_problem(f"{what} {_short(repr(name))}", name)
    return [problem] if problem else []


def _character_problem(name: str, value: str) -> str | None:
    if "\x00" in value:
        return f"{name} contains a NUL character (\\u0000), which cannot be stored"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{name} contains a lone surrogate (\\ud800-\\udfff), which is not text"
    return None


def _clip(value: Any, levels: int) -> Any:
    """A storable copy of ``value``: nesting cut after ``levels``, refused values named."""
    if isinstance(value, dict | list):
        if levels <= 0:
            return "(nested too deep: left out)"
        if isinstance(value, dict):
            return {_clean(str(k)): _clip(v, levels - 1) for k, v in value.items()}
        return [_clip(v, levels - 1) for v in value]
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if MIN_JSON_INT <= value <= MAX_JSON_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return repr(value)[:200]


def _clean(text: str) -> str:
    if _character_problem("", text) is None:
        return text
    return text.replace("\x00", "\\u0000").encode("utf-8", errors="replace").decode("utf-8")


def _label(name: Any) -> str:
    return name if isinstance(name, str) and name.isidentifier() else repr(name)


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
