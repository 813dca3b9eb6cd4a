"""The span of time relevo handles: every moment it reads from outside must lie within it.

Python's datetimes end at the years 1 and 9999, and a moment near either end cannot be
moved to UTC, to another zone or by a few working days without overflowing. Keeping
received moments well inside, with centuries of margin for calendar arithmetic, means no
conversion or stored timestamp can fail on them.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: The span in words, for error messages.
SPAN = "between 1900-01-01 and 2999-12-31 (UTC)"


def within_span(moment: datetime) -> bool:
    """Whether the aware ``moment`` lies in the span relevo handles (``SPAN``).

    Compares by UTC offset without converting, so it is safe for any aware datetime.
    """
    offset = moment.utcoffset()
    if offset is None:
        return False
    local = moment.replace(tzinfo=None)
    # The local wall time minus its offset is the UTC instant; compare on the local side so
    # that nothing is computed outside the datetime range.
    return EARLIEST.replace(tzinfo=None) + offset <= local <= LATEST.replace(tzinfo=None) + offset
