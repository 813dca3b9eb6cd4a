"""The ``timer.fired`` messages relevo sends itself when a timer falls due.

Only relevo fires timers (``relevo.services.timers``; the edge refuses them, see
``relevo.services.reserved``). A message's id is derived from the process, the timer and
its due moment, so a timer fired twice — by two workers, or again after a crash — is
applied once: the second is a duplicate in the inbox.
"""

from __future__ import annotations

from relevo.domain.model import TIMER_FIRED, Outcome, ProcessState, parse_iso
from relevo.services.inbound import Inbound, IngestResult

#: The source of every timer relevo fires.
TIMER_SOURCE = "relevo.timers"
#: The ``reason_code`` of a timer relevo fired that its process no longer has armed.
TIMER_MOVED_ON = "timer_moved_on"


def timer_message_id(process_id: str, name: str, due: str) -> str:
    """The id of the message firing timer ``name`` of ``process_id`` armed for ``due``."""
    return f"{process_id}:{name}:{due}"


def timer_message(process_id: str, name: str, due: str) -> Inbound:
    """The message firing timer ``name`` of ``process_id``, armed for ``due`` (ISO 8601)."""
    return Inbound(
        source=TIMER_SOURCE,
        id=timer_message_id(process_id, name, due),
        type=TIMER_FIRED,
        data={"name": name, "due": due},
        occurred_at=parse_iso(due),
        subject=process_id,
        actor="system",
        channel="timer",
    )


def moved_on(item: Inbound, state: ProcessState | None) -> bool:
    """Whether ``item`` fires a timer its (known) process no longer has armed at that due:
    it was cancelled, re-armed for another moment, or the process ended."""
    if item.type != TIMER_FIRED or state is None:
        return False
    name = item.data.get("name")
    return not state.active or state.timers.get(str(name)) != item.data.get("due")


def skipped(index: int, item: Inbound, process_id: str | None) -> IngestResult:
    """The result of a timer that ``moved_on``: skipped, recorded nowhere."""
    name, due = item.data.get("name"), item.data.get("due")
    return IngestResult(
        index,
        item.source,
        item.id,
        Outcome.IGNORED,
        process_id,
        f"timer {name!r} due {due} is no longer armed (the process moved on): skipped",
        TIMER_MOVED_ON,
    )
