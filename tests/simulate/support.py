"""Constants the simulator tests share."""

from __future__ import annotations

from datetime import UTC, datetime

#: A Wednesday noon in Madrid: a fixed "now" keeps every run reproducible.
NOW = datetime(2025, 3, 5, 11, 0, tzinfo=UTC)
#: The size at which every stage and incident of the catalog must show up.
COVERAGE_RUN = 1500
