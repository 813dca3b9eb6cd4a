"""Writing decided batches in order, away from the thread that decides them.

A ``WriteJob`` is written in one transaction: check that the correlation keys it looked up
still have the same holders, save its rows, commit. ``ThreadWriter`` does that on a thread
of this process; ``ProcessWriter`` in a child process with its own connection (the faster
one, and the default for streams), talking over pipes in the messages of
``relevo.adapters.db.writer_protocol``. Jobs are written in the order launched, several
may be in flight, and once one is not written the rest of its *epoch* is skipped. Why, and
what must stay true: ``docs/streamed-ingest.md``.
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import subprocess
import sys
import time
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import assert_never

from relevo.adapters.db.store import SqlStore
from relevo.adapters.db.writer_protocol import (
    GC_VARIABLE,
    URL_VARIABLE,
    Failed,
    FromWriter,
    KeyTaken,
    SkippedJob,
    StaleKeys,
    Stop,
    ToWriter,
    Unavailable,
    VersionClash,
    Written,
    commit_delay,
)
from relevo.adapters.db.writes import RenderedBatch
from relevo.services.batch_writing import (
    NOT_WRITTEN,
    BatchWriter,
    Skipped,
    StaleCorrelation,
    WriteJob,
    WriterFailed,
)
from relevo.services.records import (
    DEFAULT_RETRY_AFTER,
    ConcurrencyConflict,
    KeyConflict,
    StoreUnavailable,
)

__all__ = [
    "NOT_WRITTEN",
    "BatchWriter",
    "ProcessWriter",
    "Skipped",
    "StaleCorrelation",
    "ThreadWriter",
    "WriteJob",
    "WriterFailed",
    "write_job",
]

#: How long ``close`` waits for the child to finish its last job before stopping it.
CLOSE_TIMEOUT = 30.0
#: The largest pipe buffer asked for (Linux only; elsewhere the default stays).
PIPE_SIZE = 4 * 1024 * 1024


def write_job(store: SqlStore, job: WriteJob, delay: float = 0.0) -> None:
    """Check, write and commit ``job`` in one transaction of ``store`` (after sleeping
    ``delay`` seconds before the commit: tests only, see ``writer_protocol``)."""
    with store.unit_of_work() as uow:
        if job.pairs and uow.key_holders(job.pairs) != job.holders:
            raise StaleCorrelation("a correlation key changed hands while the batch was decided")
        if not isinstance(job.rendered, RenderedBatch):
            raise TypeError("a SQL batch writer writes batches rendered by the SQL store")
        uow.save(job.rendered)
        if delay:
            time.sleep(delay)
        uow.commit()


class Sequencer:
    """Writes jobs one after the other, skipping the rest of an epoch after a failure; the
    loop of both writers (the child's too)."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.failed_epoch: int | None = None
        self._delay = commit_delay()

    def write(self, job: WriteJob) -> None:
        """Write ``job``, or raise why it was not (``Skipped`` for the rest of an epoch)."""
        if job.epoch == self.failed_epoch:
            raise Skipped("an earlier batch of this stream was not written")
        try:
            write_job(self.store, job, self._delay)
        except BaseException:
            self.failed_epoch = job.epoch
            raise


def answer_for(error: Exception) -> FromWriter:
    """The child's answer for a job whose write raised ``error`` (``raise_for`` undoes it)."""
    match error:
        case Skipped():
            return SkippedJob(str(error))
        case StaleCorrelation():
            return StaleKeys(str(error))
        case ConcurrencyConflict():
            return VersionClash(str(error))
        case KeyConflict(key=key, holder=holder):
            return KeyTaken(key, holder)
        case StoreUnavailable(reason=reason):
            return Unavailable(reason)
        case _:
            return Failed("".join(traceback.format_exception(error)))


def raise_for(answer: FromWriter, retry_after: int = DEFAULT_RETRY_AFTER) -> None:
    """Return when ``answer`` says written; else raise what ``BatchWriter.land`` raises
    (``StoreUnavailable`` with ``retry_after``)."""
    match answer:
        case Written():
            return
        case SkippedJob(reason):
            raise Skipped(reason)
        case StaleKeys(reason):
            raise StaleCorrelation(reason)
        case VersionClash(reason):
            raise ConcurrencyConflict(reason)
        case KeyTaken(key, holder):
            raise KeyConflict(key, holder)
        case Unavailable(reason):
            raise StoreUnavailable(reason, retry_after)
        case Failed(trace):
            raise WriterFailed(f"the writer process failed:\n{trace}")
        case _:
            assert_never(answer)


class ThreadWriter:
    """Writes jobs on a thread of this process."""

    def __init__(self, store: SqlStore) -> None:
        self._sequencer = Sequencer(store)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relevo-writer")
        self._flying: deque[Future[None]] = deque()

    def launch(self, job: WriteJob) -> None:
        """Queue ``job`` on the writer thread."""
        self._flying.append(self._executor.submit(self._sequencer.write, job))

    def land(self) -> None:
        """Wait for the oldest job (see ``BatchWriter.land``)."""
        if self._flying:
            self._flying.popleft().result()

    def close(self) -> None:
        """Finish the jobs in flight, then stop the thread."""
        self._executor.shutdown(wait=True)


class ProcessWriter:
    """Writes jobs in a child process with its own connection to the same database."""

    def __init__(self, store: SqlStore) -> None:
        """Start the child: a fresh interpreter running ``relevo.adapters.db.writer_child``
        (not ``multiprocessing``, which would import the caller's main script again). It
        connects with the store's URL, passed in its environment rather than on its command
        line, and talks over a pair of pipes."""
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        _widen(to_child_write)
        environment = {
            **os.environ,
            URL_VARIABLE: store.engine.url.render_as_string(hide_password=False),
            GC_VARIABLE: ",".join(str(n) for n in gc.get_threshold()),
        }
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "relevo.adapters.db.writer_child",
                    str(to_child_read),
                    str(from_child_write),
                ],
                env=environment,
                pass_fds=(to_child_read, from_child_write),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            for fd in (to_child_read, to_child_write, from_child_read, from_child_write):
                os.close(fd)
            raise
        os.close(to_child_read)
        os.close(from_child_write)
        self._to_child = Connection(to_child_write, readable=False)
        self._from_child = Connection(from_child_read, writable=False)
        self._in_flight = 0
        self._retry_after = store.retry_after

    def launch(self, job: WriteJob) -> None:
        """Send ``job`` to the child (which reads ahead, so this does not wait for the
        jobs before it)."""
        try:
            self._send(job)
        except OSError as error:
            raise WriterFailed(self._why_gone()) from error
        self._in_flight += 1

    def land(self) -> None:
        """Wait for the child's answer about the oldest job (see ``BatchWriter.land``)."""
        if not self._in_flight:
            return
        self._in_flight -= 1
        try:
            answer: FromWriter = self._from_child.recv()
        except (EOFError, OSError) as error:
            raise WriterFailed(self._why_gone()) from error
        raise_for(answer, self._retry_after)

    def close(self) -> None:
        """Let the child finish its jobs, then stop it."""
        while self._in_flight:
            with suppress(WriterFailed, *NOT_WRITTEN):
                self.land()
        with suppress(OSError):
            self._send(Stop())
        with suppress(OSError):
            self._to_child.close()
        try:
            self._process.wait(CLOSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from_child.close()

    def _send(self, message: ToWriter) -> None:
        self._to_child.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def _why_gone(self) -> str:
        with suppress(subprocess.TimeoutExpired):
            self._process.wait(1.0)
        code = self._process.returncode
        return f"the writer process stopped (exit code {code}); the batch in flight may be lost"


def _widen(pipe: int) -> None:
    """Let the pipe hold a whole batch (about 1.5 MB for 500 events) where the system
    allows: with the default 64 KiB, handing a batch over takes dozens of round trips
    between the two processes."""
    with suppress(OSError, AttributeError):
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, min(limit, PIPE_SIZE))
