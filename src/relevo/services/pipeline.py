"""Pipelined ingest: the next batch is decided while the previous one is being written.

A batch spends a good part of its time in the database (statements, then the commit that
writes the log to disk), and the database driver lets other Python code run meanwhile. For
a stream of batches (a file, a simulator, a back-end replaying its backlog) a writer thread
writes and commits batch N while this thread decides batch N+1 on top of it:

1. **Plan N+1** on a read-only snapshot, which does not contain N yet, so N's effects are
   laid over it: N's messages count as received, N's states come from the state cache at
   the versions N gives them.
2. **Land N:** wait for its commit.
3. **Launch N+1:** open its write transaction and check what the snapshot could not know:
   the correlation of every message is read again and must equal the planned one (N may
   have added or released a key). Then hand the rows to the writer.

Whatever else could differ is guarded by the store's constraints: a message received
meanwhile clashes in the inbox, a process changed meanwhile clashes on its next version.
On any clash or failed check the batch is decided again from the store, synchronously,
exactly as ``Ingestor.ingest`` would; so are the batches planned on top of it. Each batch
is one transaction, and the results are the same as feeding the batches one by one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from relevo.adapters.db.store import (
    ConcurrencyConflict,
    KeyConflict,
    RenderedBatch,
    UnitOfWork,
    render,
)
from relevo.domain.model import ProcessState
from relevo.services.ingest import Inbound, Ingestor, IngestResult


@dataclass
class _Planned:
    """A batch decided on a snapshot, waiting to be checked and written."""

    items: Sequence[Inbound]
    results: list[IngestResult]
    rendered: RenderedBatch
    targets: list[str | None]
    #: Every state the batch read, as the batch leaves it.
    states: dict[str, ProcessState]


@dataclass
class _InFlight:
    """A batch being written and committed by the writer thread."""

    planned: _Planned
    done: Future[None]

    def received(self) -> set[tuple[str, str]]:
        """The messages this batch records as received."""
        return {(source, id_) for source, id_, _pid, _outcome in self.planned.rendered.source.inbox}

    def versions(self) -> dict[str, int]:
        """The version each process of this batch is at once it commits."""
        return {pid: state.version for pid, state in self.planned.states.items()}


def ingest_stream(
    ingestor: Ingestor, batches: Iterable[Sequence[Inbound]]
) -> Iterator[list[IngestResult]]:
    """Apply ``batches`` in order, each in its own transaction, yielding each batch's
    results (as ``Ingestor.ingest`` would give them) once it is committed.

    Falls back to one batch at a time when the state cache is off or the database is an
    in-memory SQLite one (a single connection).
    """
    if not ingestor.states.enabled or ingestor.store.single_connection:
        for items in batches:
            yield ingestor.ingest(items)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="relevo-writer") as writer:
        flying: _InFlight | None = None
        try:
            for items in batches:
                planned = _plan(ingestor, items, flying)
                if flying is not None:
                    landing, flying = flying, None
                    landed = _land(ingestor, landing)
                    if landed is None:
                        yield ingestor.ingest(landing.planned.items)
                        planned = None  # it was decided on top of a batch that did not land
                    else:
                        yield landed
                if planned is not None:
                    flying = _launch(ingestor, writer, planned)
                if flying is None:
                    yield ingestor.ingest(items)
            if flying is not None:
                landing, flying = flying, None
                landed = _land(ingestor, landing)
                yield landed if landed is not None else ingestor.ingest(landing.planned.items)
        finally:
            if flying is not None:
                # Stopped early (an error, or the caller stopped reading): let the write
                # settle, so that the cache never keeps states of a write that failed.
                with contextlib.suppress(Exception):
                    _land(ingestor, flying)


def _plan(
    ingestor: Ingestor, items: Sequence[Inbound], flying: _InFlight | None
) -> _Planned | None:
    """Decide ``items`` on a snapshot with ``flying``'s effects laid over it; ``None`` when
    a state it needs is neither in the snapshot nor in the cache."""
    now = ingestor.clock()
    with ingestor.store.unit_of_work(read_only=True) as uow:
        seen = uow.inbox_seen((item.source, item.id) for item in items)
        targets = ingestor.correlate(uow, items)
        if flying is not None:
            seen |= flying.received()
        ahead = flying.versions() if flying is not None else None
        states = ingestor.load_states(uow, {pid for pid in targets if pid is not None}, ahead)
        if states is None:
            return None
    results, batch = ingestor.decide_batch(
        items, now, seen, targets, states, excluded={}, key_owner={}, keep_rejected=True
    )
    return _Planned(items, results, render(batch), targets, states)


def _launch(ingestor: Ingestor, writer: ThreadPoolExecutor, planned: _Planned) -> _InFlight | None:
    """Open the write transaction of ``planned``, check its correlation again and hand it to
    the writer; ``None`` (nothing written) when the check fails."""
    saves_here = not ingestor.store.writes_release_the_interpreter
    with contextlib.ExitStack() as cleanup:
        uow = cleanup.enter_context(ingestor.store.unit_of_work())
        if ingestor.correlate(uow, planned.items) != planned.targets:
            return None
        if saves_here:
            try:
                uow.save(planned.rendered)
            except (ConcurrencyConflict, KeyConflict):
                return None
        cleanup.pop_all()  # from here on the writer closes the unit of work
    # The next batch is planned before this one commits: it finds these states in the
    # cache. Should the write fail, the cache is cleared and both batches start over.
    ingestor.states.give_back(planned.states.values())
    rendered = None if saves_here else planned.rendered
    return _InFlight(planned, writer.submit(_write, uow, rendered))


def _write(uow: UnitOfWork, rendered: RenderedBatch | None) -> None:
    """Runs on the writer thread: save (unless done already), commit, close."""
    try:
        if rendered is not None:
            uow.save(rendered)
        uow.commit()
    finally:
        uow.__exit__(None, None, None)


def _land(ingestor: Ingestor, flying: _InFlight) -> list[IngestResult] | None:
    """Wait for ``flying`` to commit: its results, or ``None`` when it clashed with another
    writer (nothing of it is written, and the cache is cleared)."""
    try:
        flying.done.result()
    except (ConcurrencyConflict, KeyConflict):
        ingestor.states.clear()
        return None
    except BaseException:
        ingestor.states.clear()
        raise
    return flying.planned.results
