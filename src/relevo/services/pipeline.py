"""Streamed ingest: the next batches are decided while the previous ones are written.

For a stream of batches (a file, a simulator, a back-end replaying its backlog) a writer
(``Store.batch_writer``; the SQL one is ``relevo.adapters.db.batch_writer``) writes and
commits batches while this process decides the next ones on top of them, with up to
``DEPTH`` batches in flight. Each batch is **planned** on a snapshot of the store with the
batches it may lack laid over it, **launched** to the writer (which checks its correlation
keys again in the transaction), and **landed** when the pipeline is full; a batch the writer
refuses is decided again from the store, with every batch planned on top of it. The results
are those of feeding the batches one by one. The design, its invariants and what is safe to
change are in ``docs/streamed-ingest.md``; who owns a process state, in
``relevo.services.state_cache``.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import get_args

from relevo.domain.model import ProcessState
from relevo.services.batch_writing import NOT_WRITTEN, BatchWriter, WriteJob, WriterKind
from relevo.services.correlation import Correlation
from relevo.services.ingest import Inbound, Ingestor, IngestResult

__all__ = ["DEPTH", "WriterKind", "ingest_stream"]

#: Batches in flight at most: one being written, one waiting in the writer's queue.
DEPTH = 2


@dataclass
class StreamReport:
    """What a pipelined stream did, counted as it went (all zero when it fell back to one
    batch at a time). Tests read it to prove which path a stream took."""

    #: Batches handed to the writer.
    launched: int = 0
    #: Batches planned on a snapshot that lacked an earlier batch still uncommitted when it
    #: was read, whose effects (received messages, versions, keys) were laid over it.
    overlaid: int = 0
    #: Of those, batches whose correlation came from keys given or released in flight.
    keys_overlaid: int = 0
    #: Batches the snapshot could not plan, decided from the store once nothing was in flight.
    waited: int = 0
    #: Batches the writer did not write (a clash, a stale key, skipped behind one).
    refused: int = 0


@dataclass
class _Planned:
    """A batch decided on a snapshot, waiting to be written."""

    items: Sequence[Inbound]
    results: list[IngestResult]
    job: WriteJob
    #: Every state the batch read, as the batch leaves it.
    states: dict[str, ProcessState]
    #: The messages this batch records as received, with their content digests.
    received: dict[tuple[str, str], str | None] = field(init=False)
    #: The version each process of this batch is at once it commits. Taken now: the states
    #: go back to the cache at launch, and later batches advance them in place.
    versions: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.received = {
            (source, id_): digest for source, id_, _, _, digest, *_ in self.job.rendered.inbox
        }
        self.versions = {pid: state.version for pid, state in self.states.items()}


def ingest_stream(
    ingestor: Ingestor,
    batches: Iterable[Sequence[Inbound]],
    writer: WriterKind = "process",
    report: StreamReport | None = None,
) -> Iterator[list[IngestResult]]:
    """Apply ``batches`` in order, each in its own transaction, yielding each batch's
    results (as ``Ingestor.ingest`` would give them) once it is committed.

    ``writer`` says where batches are written (see ``Store.batch_writer``). A batch may
    be an ``InboundBatch``: its refused items are written with it. ``report``, when given,
    counts what the stream did. Falls back to one batch at a time for a single batch, when
    the state cache is off, or when the database is an in-memory SQLite one (a single
    connection).
    """
    if writer not in get_args(WriterKind):
        kinds = ", ".join(get_args(WriterKind))
        raise ValueError(f"unknown ingest writer {writer!r}: use one of {kinds}")
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
    counts = report if report is not None else StreamReport()
    stream = _Stream(ingestor, ingestor.store.batch_writer(writer), counts)
    yield from _pipelined(stream, itertools.chain((first, second), source))


@dataclass
class _Reads:
    """What the store said about a batch before it was decided, and what it may have
    missed: every batch not yet landed when the reading began (``since`` is the sequence
    number of the first of them), unless a batch was written directly since (the count
    of direct writes was then above ``direct_writes``)."""

    seen: dict[tuple[str, str], str | None]
    correlation: Correlation
    versions: dict[str, int]
    since: int
    direct_writes: int


class _Stream:
    """The bookkeeping of one pipelined stream: batches in flight, the recent batches a
    read may have missed, and the reads prefetched for the next batch."""

    def __init__(self, ingestor: Ingestor, writer: BatchWriter, report: StreamReport) -> None:
        self.ingestor = ingestor
        self.writer = writer
        self.report = report
        self.flying: deque[_Planned] = deque()
        #: Batches launched (and not failed), by sequence number, while a read may lack them.
        self.recent: deque[tuple[int, _Planned]] = deque()
        self.launched = 0
        self.landed = 0
        self.direct_writes = 0
        self.epoch = 0
        self._reader = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="relevo-reader")
            if ingestor.store.reads_wait_on_a_server
            else None
        )

    def read(self, items: Sequence[Inbound]) -> Callable[[], _Reads]:
        """What ``items`` need from the store, as a call that returns it: read now on the
        reader thread when prefetching, else read when called."""
        if self._reader is None:
            return lambda: _read(self.ingestor, items, self.landed, self.direct_writes)
        return self._reader.submit(
            _read, self.ingestor, items, self.landed, self.direct_writes
        ).result

    def fresh(self, reads: _Reads, items: Sequence[Inbound]) -> _Reads:
        """``reads``, or new ones when batches were written directly since they began."""
        if reads.direct_writes == self.direct_writes:
            return reads
        return _read(self.ingestor, items, self.landed, self.direct_writes)

    def missed_by(self, reads: _Reads) -> list[_Planned]:
        """The batches ``reads`` may not show, oldest first."""
        return [planned for seq, planned in self.recent if seq >= reads.since]

    def launch(self, planned: _Planned) -> None:
        """Hand ``planned`` to the writer; its states are in flight until it lands."""
        self.writer.launch(planned.job)
        self.ingestor.states.hold_in_flight(planned.states.values())
        self.flying.append(planned)
        self.recent.append((self.launched, planned))
        self.launched += 1
        self.report.launched += 1
        while len(self.recent) > DEPTH + 2:
            self.recent.popleft()

    def ingest_directly(self, items: Sequence[Inbound]) -> list[IngestResult]:
        """Decide and write ``items`` here, from the store (no batch may be in flight);
        every read begun before is stale from now on."""
        self.direct_writes += 1
        return self.ingestor.ingest(items)

    def land_oldest(self) -> Generator[list[IngestResult], None, bool]:
        """Land the oldest batch in flight and yield its results. When it was not written,
        the writer skipped every batch after it: land those too, decide them all again
        from the store, in order, and return ``True``."""
        landing = self.flying.popleft()
        self.landed += 1
        if _land(self.ingestor, self.writer, landing):
            yield landing.results
            return False
        redo = [landing.items]
        while self.flying:
            later = self.flying.popleft()
            self.landed += 1
            _land(self.ingestor, self.writer, later)
            redo.append(later.items)
        self.report.refused += len(redo)
        self.recent.clear()  # nothing in flight, and what failed was never written
        self.epoch += 1
        for items in redo:
            yield self.ingest_directly(items)
        return True

    def close(self) -> None:
        """Let the writes in flight settle (so that the cache never keeps states of a write
        that failed), then stop the reader and the writer."""
        while self.flying:
            with contextlib.suppress(Exception):
                _land(self.ingestor, self.writer, self.flying.popleft())
        if self._reader is not None:
            self._reader.shutdown(wait=True)
        self.writer.close()


def _pipelined(
    stream: _Stream, batches: Iterator[Sequence[Inbound]]
) -> Iterator[list[IngestResult]]:
    ingestor, report = stream.ingestor, stream.report
    try:
        items = next(batches, None)
        reading = stream.read(items) if items is not None else None
        while items is not None and reading is not None:
            reads = reading()
            broken: Exception | None = None
            try:
                following = next(batches, None)
            except Exception as error:  # the source broke: this batch still goes in first
                following, broken = None, error
            # The next batch's reads overlap this one's deciding.
            reading = stream.read(following) if following is not None else None
            reads = stream.fresh(reads, items)
            planned = _plan(ingestor, items, reads, stream.missed_by(reads), stream.epoch, report)
            while stream.flying and (len(stream.flying) >= DEPTH or planned is None):
                if (yield from stream.land_oldest()):
                    planned = None  # decided on top of a write that did not happen
            if planned is None:
                yield stream.ingest_directly(items)
            else:
                stream.launch(planned)
            if broken is not None:
                raise broken
            items = following
        while stream.flying:
            yield from stream.land_oldest()
    finally:
        stream.close()


def _read(ingestor: Ingestor, items: Sequence[Inbound], since: int, direct_writes: int) -> _Reads:
    """Read what deciding ``items`` needs: which messages were received, whom the keys
    name, the stored versions of those processes."""
    with ingestor.store.unit_of_work(read_only=True) as uow:
        seen = uow.inbox_received((item.source, item.id) for item in items)
        correlation = ingestor.correlator.resolve(uow, items)
        versions = uow.process_versions({pid for pid in correlation.targets if pid is not None})
    return _Reads(seen, correlation, versions, since, direct_writes)


def _plan(
    ingestor: Ingestor,
    items: Sequence[Inbound],
    reads: _Reads,
    missed: Sequence[_Planned],
    epoch: int,
    report: StreamReport,
) -> _Planned | None:
    """Decide ``items`` on ``reads`` with the effects of the batches they ``missed`` laid
    over them; ``None`` when the snapshot cannot tell whom a key names, or a state it needs
    is neither in the store nor in the cache."""
    now = ingestor.clock()
    seen = dict(reads.seen)
    ahead: dict[str, int] = {}
    for earlier in missed:
        seen.update(earlier.received)
        ahead.update(earlier.versions)
    correlation = _with_missed_keys(ingestor, items, reads.correlation, missed)
    if correlation is None:
        report.waited += 1
        return None
    targets = {pid for pid in correlation.targets if pid is not None}
    # The version a batch in flight (or landed since the read) gives each process.
    in_flight = {pid: ahead[pid] for pid in targets if pid in ahead}
    states = _states(ingestor, targets, reads, in_flight)
    if states is None:
        report.waited += 1
        return None
    if (
        correlation is not reads.correlation
        or any(reads.versions.get(pid) != version for pid, version in in_flight.items())
        or any((i.source, i.id) in seen and (i.source, i.id) not in reads.seen for i in items)
    ):
        # Proof the snapshot was read before a batch it depends on had committed.
        report.overlaid += 1
        report.keys_overlaid += correlation is not reads.correlation
    results, batch = ingestor.decide_batch(
        items,
        now,
        seen,
        correlation.targets,
        states,
        excluded={},
        key_owner={},
        keep_rejected=True,
    )
    job = WriteJob(ingestor.store.render(batch), correlation.pairs, correlation.holders, epoch)
    return _Planned(items, results, job, states)


def _states(
    ingestor: Ingestor, targets: set[str], reads: _Reads, in_flight: dict[str, int]
) -> dict[str, ProcessState] | None:
    """The states of ``targets``: those ``in_flight`` from the cache, where the batches in
    flight left them; the others at the version ``reads`` gives them, from the cache or
    the store. ``None`` when one is in neither."""
    stored = {
        pid: reads.versions[pid] for pid in targets - in_flight.keys() if pid in reads.versions
    }
    if len(stored) + len(in_flight) < len(targets):
        return None  # named by a key, yet not stored (and no batch in flight changed it)
    states = ingestor.states.take_in_flight(in_flight) if in_flight else {}
    if states is not None and stored:
        with ingestor.store.unit_of_work(read_only=True) as uow:
            states.update(ingestor.states_at(uow, stored))
    return states


def _with_missed_keys(
    ingestor: Ingestor,
    items: Sequence[Inbound],
    correlation: Correlation,
    missed: Sequence[_Planned],
) -> Correlation | None:
    """``correlation`` as the store will give it once the ``missed`` batches have landed,
    or ``None`` when the snapshot cannot tell.

    The common case is exact: a batch in flight gave a key nobody held to a process (the
    central node's reference on acceptance, say), and this batch's messages name it. A key
    released in flight leaves the holders still active; when none is left the store lists
    every past holder, which the snapshot holds unless the key changed hands before (the
    writer checks the holders again either way). A holder added beside existing ones
    depends on rows the snapshot did not read: ``None``.
    """
    added: dict[tuple[str, str], list[tuple[str, str, bool]]] = {}
    released: set[str] = set()
    for earlier in missed:
        rendered = earlier.job.rendered
        released.update(rendered.released)
        for kind, name, value, pid, active in rendered.keys:
            added.setdefault((name, value), []).append((kind, pid, active))
    if not added and not released:
        return correlation
    holders = dict(correlation.holders)
    changed = False
    for pair in correlation.pairs:
        held = holders.get(pair, [])
        # A read may already show a batch it counts as missed (it landed as the read ran).
        new = [entry for entry in added.get(pair, ()) if entry[:2] not in held]
        if new:
            if held:
                return None
            # Newest first, as the store lists them; active holders hide released ones.
            newest = [(kind, pid, active and pid not in released) for kind, pid, active in new]
            newest.reverse()
            active_ones = [(kind, pid) for kind, pid, active in newest if active]
            holders[pair] = active_ones or [(kind, pid) for kind, pid, _ in newest]
            changed = True
        elif released and any(pid in released for _, pid in held):
            still = [(kind, pid) for kind, pid in held if pid not in released]
            if still:
                holders[pair] = still
                changed = True
    if not changed:
        return correlation
    targets = [
        target if item.subject is not None else ingestor.correlator.pick(item, holders)
        for item, target in zip(items, correlation.targets, strict=True)
    ]
    return Correlation(targets, correlation.pairs, holders)


def _land(ingestor: Ingestor, writer: BatchWriter, flying: _Planned) -> bool:
    """Wait for ``flying`` to commit and settle its states in the cache: ``False`` when it
    was not written because the store changed under it (it must be decided again)."""
    try:
        writer.land()
    except NOT_WRITTEN:
        ingestor.states.not_written(flying.versions)
        return False
    except BaseException:
        ingestor.states.clear()
        raise
    ingestor.states.committed(flying.versions)
    return True
