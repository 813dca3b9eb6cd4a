"""Pipelined ingest: the next batches are decided while the previous ones are written.

A batch spends a good part of its time writing rows and committing. For a stream of
batches (a file, a simulator, a back-end replaying its backlog) a writer (a child process
by default, see ``relevo.adapters.db.batch_writer``) writes and commits batches while this
process decides the next ones on top of them, with up to ``DEPTH`` batches in flight:

1. **Plan** the next batch on a read-only snapshot, which does not contain the batches in
   flight, so their effects are laid over it: their messages count as received, their
   states come from the state cache at the versions they give them.
2. **Land** the oldest batch in flight when the pipeline is full: wait for its commit.
3. **Launch** the planned batch: hand its rows to the writer, which first checks, in the
   write transaction, what the snapshot could not know: every correlation key the batch
   looked up must still have the same holders (a batch before it may have added or
   released one).

Whatever else could differ is guarded by the store's constraints: a message received
meanwhile clashes in the inbox, a process changed meanwhile clashes on its next version.
On any clash or failed check the batch is decided again from the store, synchronously,
exactly as ``Ingestor.ingest`` would; so are the batches planned on top of it, which the
writer skips. Each batch is one transaction, and the results are the same as feeding the
batches one by one.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from relevo.adapters.db.batch_writer import (
    NOT_WRITTEN,
    BatchWriter,
    ProcessWriter,
    ThreadWriter,
    WriteJob,
)
from relevo.adapters.db.store import SqlStore, render
from relevo.domain.model import ProcessState
from relevo.services.correlation import Correlation
from relevo.services.ingest import Inbound, Ingestor, IngestResult

#: Where batches are written: a child process (the default) or a thread of this one.
WriterKind = Literal["process", "thread"]

#: Batches in flight at most: one being written, one waiting in the writer's queue.
DEPTH = 2

WRITERS: dict[str, Callable[[SqlStore], BatchWriter]] = {
    "process": ProcessWriter,
    "thread": ThreadWriter,
}


@dataclass
class _Planned:
    """A batch decided on a snapshot, waiting to be written."""

    items: Sequence[Inbound]
    results: list[IngestResult]
    job: WriteJob
    #: Every state the batch read, as the batch leaves it.
    states: dict[str, ProcessState]

    def received(self) -> set[tuple[str, str]]:
        """The messages this batch records as received."""
        return {(source, id_) for source, id_, *_ in self.job.rendered.inbox}

    def versions(self) -> dict[str, int]:
        """The version each process of this batch is at once it commits."""
        return {pid: state.version for pid, state in self.states.items()}


def ingest_stream(
    ingestor: Ingestor, batches: Iterable[Sequence[Inbound]], writer: WriterKind = "process"
) -> Iterator[list[IngestResult]]:
    """Apply ``batches`` in order, each in its own transaction, yielding each batch's
    results (as ``Ingestor.ingest`` would give them) once it is committed.

    ``writer`` says where batches are written (see ``relevo.adapters.db.batch_writer``).
    Falls back to one batch at a time for a single batch, when the state cache is off, or
    when the database is an in-memory SQLite one (a single connection).
    """
    if writer not in WRITERS:
        raise ValueError(f"unknown ingest writer {writer!r}: use one of {', '.join(WRITERS)}")
    source = iter(batches)
    first = next(source, None)
    if first is None:
        return
    second = next(source, None)
    sequential = not ingestor.states.enabled or ingestor.store.single_connection
    if second is None or sequential:
        yield ingestor.ingest(first)
        if second is not None:
            yield ingestor.ingest(second)
        for items in source:
            yield ingestor.ingest(items)
        return
    yield from _pipelined(ingestor, _chain(first, second, source), WRITERS[writer](ingestor.store))


def _chain(
    first: Sequence[Inbound], second: Sequence[Inbound], rest: Iterator[Sequence[Inbound]]
) -> Iterator[Sequence[Inbound]]:
    yield first
    yield second
    yield from rest


def _pipelined(
    ingestor: Ingestor, batches: Iterator[Sequence[Inbound]], writer: BatchWriter
) -> Iterator[list[IngestResult]]:
    flying: deque[_Planned] = deque()
    epoch = 0
    try:
        for items in batches:
            planned = _plan(ingestor, items, flying, epoch)
            while flying and (len(flying) >= DEPTH or planned is None):
                if (yield from _land_oldest(ingestor, writer, flying)):
                    planned = None  # decided on top of a write that did not happen
                    epoch += 1
            if planned is None:
                yield ingestor.ingest(items)
                continue
            writer.launch(planned.job)
            # The next batches are planned before this one commits: they find these states
            # in the cache. Should the write fail, they leave the cache and every batch
            # planned on top of them starts over.
            ingestor.states.give_back(planned.states.values())
            flying.append(planned)
        while flying:
            yield from _land_oldest(ingestor, writer, flying)
    finally:
        # Stopped early (an error, or the caller stopped reading): let the writes settle,
        # so that the cache never keeps states of a write that failed.
        while flying:
            with contextlib.suppress(Exception):
                _land(ingestor, writer, flying.popleft())
        writer.close()


def _land_oldest(
    ingestor: Ingestor, writer: BatchWriter, flying: deque[_Planned]
) -> Generator[list[IngestResult], None, bool]:
    """Land the oldest batch in flight and yield its results. When it was not written, the
    writer skipped every batch after it: land those too, decide them all again from the
    store, in order, and return ``True``."""
    landing = flying.popleft()
    if _land(ingestor, writer, landing):
        yield landing.results
        return False
    redo = [landing.items]
    while flying:
        later = flying.popleft()
        _land(ingestor, writer, later)
        redo.append(later.items)
    for items in redo:
        yield ingestor.ingest(items)
    return True


def _plan(
    ingestor: Ingestor, items: Sequence[Inbound], flying: Sequence[_Planned], epoch: int
) -> _Planned | None:
    """Decide ``items`` on a snapshot with the effects of the batches in ``flying`` laid
    over it; ``None`` when a state it needs is neither in the snapshot nor in the cache."""
    now = ingestor.clock()
    with ingestor.store.unit_of_work(read_only=True) as uow:
        seen = uow.inbox_seen((item.source, item.id) for item in items)
        correlation: Correlation = ingestor.correlator.resolve(uow, items)
        ahead: dict[str, int] = {}
        for earlier in flying:
            seen |= earlier.received()
            ahead.update(earlier.versions())
        targets = correlation.targets
        states = ingestor.load_states(uow, {pid for pid in targets if pid is not None}, ahead)
        if states is None:
            return None
    results, batch = ingestor.decide_batch(
        items, now, seen, targets, states, excluded={}, key_owner={}, keep_rejected=True
    )
    job = WriteJob(render(batch), correlation.pairs, correlation.holders, epoch)
    return _Planned(items, results, job, states)


def _land(ingestor: Ingestor, writer: BatchWriter, flying: _Planned) -> bool:
    """Wait for ``flying`` to commit: ``False`` when it was not written because the store
    changed under it (its states leave the cache, and it must be decided again)."""
    try:
        writer.land()
    except NOT_WRITTEN:
        # Only this batch's entries describe a write that did not happen; every other
        # entry is checked against the stored version before it is used.
        ingestor.states.discard(flying.states)
        return False
    except BaseException:
        ingestor.states.clear()
        raise
    return True
