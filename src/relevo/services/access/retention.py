"""Retention of the access records: link uses, one-time codes and request counts are only
needed while they can still decide something, so the operator purges them on a schedule
(``relevo access purge --older-than HOURS``).

A link's uses are kept until the link itself has expired (deleting them earlier would let a
used-up link work again), a code until it has expired, and a request count until its window
has ended; ``older_than`` adds a margin after that, for looking into recent abuse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from relevo.domain.model import JSON, iso
from relevo.services.access import codes, links
from relevo.services.access.ports import AccessStore

#: Rows of each kind one purge transaction deletes, so server workers are not held up.
PURGE_CHUNK = 1000

#: The longest rate-limit window: a count whose window started this long before the cut-off
#: has ended by then.
LONGEST_WINDOW = max(
    limit.window
    for limit in (
        links.PER_ADDRESS,
        links.PER_REFERENCE,
        links.PER_CUSTOMER,
        codes.PER_CUSTOMER,
        codes.PER_ADDRESS,
    )
)


def purge_expired(
    access: AccessStore, clock: Callable[[], datetime], older_than: timedelta
) -> JSON:
    """Delete the link uses and codes that expired more than ``older_than`` ago and the
    request counts of windows that ended more than ``older_than`` ago, a chunk per
    transaction. Raises ValueError unless ``older_than`` is positive. Returns
    ``{"before", "link_uses", "codes", "rate_limits"}`` (``before``: the cut-off, ISO UTC)."""
    if older_than <= timedelta(0):
        raise ValueError("the retention period must be positive")
    before = clock() - older_than
    totals = {"link_uses": 0, "codes": 0, "rate_limits": 0}
    while True:
        purged = access.purge(iso(before), iso(before - LONGEST_WINDOW), PURGE_CHUNK)
        totals["link_uses"] += purged.link_uses
        totals["codes"] += purged.codes
        totals["rate_limits"] += purged.rate_limits
        if max(purged.link_uses, purged.codes, purged.rate_limits) < PURGE_CHUNK:
            return {"before": iso(before), **totals}
