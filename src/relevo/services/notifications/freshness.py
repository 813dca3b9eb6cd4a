"""Whether a notification requested earlier is still true of the process now.

The outbox payload keeps what the message was true of when it was requested (status,
stage, the dates its template names, the incidents that prompted it); at send time the
current state is compared with it, and a message a later state made wrong is superseded
rather than sent: never "your switch is tomorrow" after a cancellation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.model import ProcessState, parse_iso


def stale_reason(
    c: Compiled, payload: Mapping[str, Any], state: ProcessState, now: datetime
) -> str | None:
    """Why the notification of ``payload`` must not be sent for ``state`` at ``now``, or
    ``None`` when it is still right.

    Stale: the process ended since it was requested (a message requested by the ending
    itself still goes); a date the message names moved or was cleared; every incident it
    reports is resolved; a reminder whose stage was left or whose date has passed.
    """
    asked_status = payload.get("status", "active")
    if not state.active and asked_status != state.status:
        return f"the process is {state.status} now"
    for name, at in dict(payload.get("dates") or {}).items():
        entry = state.dates.get(name)
        if entry is None:
            return f"date {name} was cleared"
        if entry["at"] != at:
            return f"date {name} moved from {at} to {entry['at']}"
    incidents = list(payload.get("incidents") or [])
    still_open = [code for code in incidents if code in state.open_incidents()]
    if incidents and not still_open:
        return f"problem {', '.join(incidents)} is fixed"
    notification = c.notification_by_template.get(str(payload.get("template")))
    if notification is not None and notification.at is not None:
        if notification.active_in and state.stage not in notification.active_in:
            return f"the reminder's stage was left (now {state.stage})"
        passed = [n for n, at in dict(payload.get("dates") or {}).items() if parse_iso(at) <= now]
        if passed:
            return f"date {passed[0]} has passed"
    return None
