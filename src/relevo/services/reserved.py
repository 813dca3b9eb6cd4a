"""relevo's own namespace: the message types and sources no back-end may use.

Timers are fired by relevo's worker when they fall due, and a customer's action keeps its
request id in the inbox under a source of its own (``action:<actor>``). A back-end that
could send either would fire timers early, or claim an action's request id in advance and
silently swallow the customer's action. The edge refuses such messages (``screen``), and
so does ingest for every caller but relevo's own trusted paths.
"""

from __future__ import annotations

from relevo.domain.model import TIMER_FIRED

#: The ``reason_code`` of a message refused for using relevo's namespace.
REASON_CODE = "reserved_namespace"

#: Types relevo keeps for itself: its timers and its command lines (``relevo.process.*``).
TYPE_PREFIXES = ("relevo.", "timer.")
#: Sources relevo keeps for itself: its own (``relevo.timers``) and customers' actions.
ACTION_SOURCE_PREFIX = "action:"
SOURCE_PREFIXES = ("relevo", ACTION_SOURCE_PREFIX)


def action_source(actor: str) -> str:
    """The inbox source under which an action of ``actor`` keeps its request id: in a
    namespace no back-end message can use."""
    return f"{ACTION_SOURCE_PREFIX}{actor}"


def refusal(source: str, type_: str) -> str | None:
    """Why a back-end message of ``source`` and ``type_`` is refused, or ``None`` when it
    stays outside relevo's namespace (letter case does not matter)."""
    # The first letter rules out most messages cheaply (this runs for every message).
    if type_[:1] in "rRtT" and type_[:7].lower().startswith(TYPE_PREFIXES):
        if type_ == TIMER_FIRED:
            return (
                f"{TIMER_FIRED} is refused: timers are fired by relevo's worker when due; "
                "back-ends cannot fire them"
            )
        return (
            f"type {type_!r} is refused: types starting 'relevo.' or 'timer.' are relevo's "
            "own; send the event types of the process definition"
        )
    if source[:1] in "rRaA" and source[:7].lower().startswith(SOURCE_PREFIXES):
        return (
            f"source {source!r} is refused: sources starting 'relevo' or 'action:' are "
            "relevo's own; send your back-end's own source (e.g. urn:acme:crm)"
        )
    return None
