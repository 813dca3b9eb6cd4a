"""Everything that crosses between the deciding process and the batch writer's child.

The child is started as ``python -m relevo.adapters.db.writer_child IN_FD OUT_FD`` with the
variables below in its environment. The parent sends ``ToWriter`` messages (pickled) on
the first pipe, the child answers every ``WriteJob`` with one ``FromWriter`` message on the
second, in order. Both ends import their messages from here and nowhere else; the design
and its invariants are in ``docs/streamed-ingest.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from relevo.services.batch_writing import WriteJob

__all__ = ["WriteJob"]  # the parent's job message, defined with the services that make it

#: The database URL the child connects to (kept off its command line).
URL_VARIABLE = "RELEVO_WRITER_DATABASE_URL"
#: The parent's garbage-collector thresholds, ``"low,middle,high"``.
GC_VARIABLE = "RELEVO_WRITER_GC_THRESHOLD"
#: Tests only: seconds every writer sleeps before each commit, so that the batches after it
#: are provably planned while it is still uncommitted. Read from the environment by both
#: writers (the child inherits the parent's).
COMMIT_DELAY_VARIABLE = "RELEVO_WRITER_TEST_COMMIT_DELAY"


def commit_delay() -> float:
    """The test-only delay before each commit (``COMMIT_DELAY_VARIABLE``), 0 when unset."""
    return float(os.environ.get(COMMIT_DELAY_VARIABLE) or 0)


# -- parent → child ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stop:
    """No more jobs: finish the ones received and leave (the end of the pipe says the same,
    should the parent go away without a word)."""


ToWriter = WriteJob | Stop


# -- child → parent: one answer per job, in the order received --------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """The job is committed."""


@dataclass(frozen=True, slots=True)
class SkippedJob:
    """Not written: an earlier job of its epoch was not written, and it was decided on top."""

    reason: str


@dataclass(frozen=True, slots=True)
class StaleKeys:
    """Not written: a correlation key it looked up changed hands since it was decided."""

    reason: str


@dataclass(frozen=True, slots=True)
class VersionClash:
    """Not written: a process version or an inbound message it writes is already stored."""

    reason: str


@dataclass(frozen=True, slots=True)
class KeyTaken:
    """Not written: a key it adds is held by another active process."""

    key: tuple[str, str, str]
    holder: str | None


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Not written: the database could not serve the job (a storage fault; see
    ``relevo.adapters.db.faults``); the parent says how long to wait."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """An unexpected error in the child: the job's transaction was abandoned (unless the
    commit itself broke, when nobody can tell)."""

    traceback: str


FromWriter = Written | SkippedJob | StaleKeys | VersionClash | KeyTaken | Unavailable | Failed
