"""What streamed ingest needs from a batch writer: the job it hands over, the writer's
interface and the ways a job can come back unwritten. A store provides the writer
(``Store.batch_writer``); the SQL one lives in ``relevo.adapters.db.batch_writer``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from relevo.services.records import ConcurrencyConflict, Holders, KeyConflict

#: Where batches are written: a child process (the default) or a thread of this one.
WriterKind = Literal["process", "thread"]


class RenderedRows(Protocol):
    """A batch turned into rows of plain values by its store; what the pipeline reads of
    it: the inbox rows ``(source, message_id, process_id, outcome, digest, …)``, the
    processes whose keys are released and the key rows ``(kind, name, value, process_id,
    active)``."""

    @property
    def inbox(self) -> Sequence[tuple[Any, ...]]: ...

    @property
    def released(self) -> Sequence[str]: ...

    @property
    def keys(self) -> Sequence[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class WriteJob:
    """A batch to write, with the correlation keys it was decided with."""

    rendered: RenderedRows
    #: Every correlation key the batch looked up, and who held each when it was decided.
    pairs: list[tuple[str, str]]
    holders: Holders
    #: Jobs of an epoch in which one failed are skipped (see ``BatchWriter``).
    epoch: int = 0


class StaleCorrelation(Exception):
    """A correlation key the batch was decided with changed hands before it was written;
    nothing of it is written, and it must be decided again."""


class Skipped(Exception):
    """An earlier job of the same epoch failed, and this one, decided on top of it, was not
    written."""


class WriterFailed(Exception):
    """The writer stopped working (its process died, or an unexpected error); the job in
    flight may or may not be written."""


#: What ``land`` raises for a job that was not written, and can be decided again.
NOT_WRITTEN = (StaleCorrelation, ConcurrencyConflict, KeyConflict, Skipped)


class BatchWriter(Protocol):
    """Writes jobs in the order launched; once one fails, the later jobs of its epoch are
    skipped."""

    def launch(self, job: WriteJob) -> None:
        """Queue ``job`` behind the jobs in flight."""
        ...

    def land(self) -> None:
        """Wait until the oldest job in flight is committed.

        Raises ``StaleCorrelation``, ``ConcurrencyConflict``, ``KeyConflict`` or
        ``Skipped`` when it was not written (nothing of it is), and ``WriterFailed`` when
        the writer broke.
        """
        ...

    def close(self) -> None:
        """Release the writer; jobs still in flight are finished first."""
        ...
