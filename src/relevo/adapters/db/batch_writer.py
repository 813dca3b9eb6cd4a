"""Writing decided batches in order, away from the thread that decides them.

A ``WriteJob`` is a rendered batch plus the correlation it was decided with. Writing it
means, in one transaction: look the batch's correlation keys up again (a batch written
meanwhile may have added or released one), save the rows, commit. Two writers do that:

* ``ThreadWriter``, a thread of this process. The database driver lets other Python code
  run while the server works, but every row handed to the driver needs the interpreter.
* ``ProcessWriter``, a child process with its own connection: the rows travel pickled, and
  the deciding process keeps its interpreter to itself. It is the faster one (measured in
  ``bench/README.md``) and the default for streams.

Jobs are written in the order launched, and several may be in flight; ``land`` waits for
the oldest. A job is decided on top of the ones launched before it, so once one fails, the
writer skips every later job of the same *epoch* (the caller starts a new epoch after
deciding the failed ones again).
"""

from __future__ import annotations

import fcntl
import gc
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.adapters.db.writes import RenderedBatch
from relevo.services.batch_writing import (
    NOT_WRITTEN,
    BatchWriter,
    Skipped,
    StaleCorrelation,
    WriteJob,
    WriterFailed,
)
from relevo.services.records import ConcurrencyConflict, KeyConflict

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
#: The child's environment: the database URL and the parent's garbage-collector thresholds.
URL_VARIABLE = "RELEVO_WRITER_DATABASE_URL"
GC_VARIABLE = "RELEVO_WRITER_GC_THRESHOLD"


def write_job(store: SqlStore, job: WriteJob) -> None:
    """Check, write and commit ``job`` in one transaction of ``store``."""
    with store.unit_of_work() as uow:
        if job.pairs and uow.key_holders(job.pairs) != job.holders:
            raise StaleCorrelation("a correlation key changed hands while the batch was decided")
        if not isinstance(job.rendered, RenderedBatch):
            raise TypeError("a SQL batch writer writes batches rendered by the SQL store")
        uow.save(job.rendered)
        uow.commit()


class _Sequencer:
    """Writes jobs one after the other, skipping the rest of an epoch after a failure."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.failed_epoch: int | None = None

    def write(self, job: WriteJob) -> None:
        if job.epoch == self.failed_epoch:
            raise Skipped("an earlier batch of this stream was not written")
        try:
            write_job(self.store, job)
        except BaseException:
            self.failed_epoch = job.epoch
            raise


class ThreadWriter:
    """Writes jobs on a thread of this process."""

    def __init__(self, store: SqlStore) -> None:
        self._sequencer = _Sequencer(store)
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

    def launch(self, job: WriteJob) -> None:
        """Send ``job`` to the child (which reads ahead, so this does not wait for the
        jobs before it)."""
        try:
            self._to_child.send_bytes(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as error:
            raise WriterFailed(self._why_gone()) from error
        self._in_flight += 1

    def land(self) -> None:
        """Wait for the child's answer about the oldest job (see ``BatchWriter.land``)."""
        if not self._in_flight:
            return
        self._in_flight -= 1
        try:
            answer = self._from_child.recv()
        except (EOFError, OSError) as error:
            raise WriterFailed(self._why_gone()) from error
        kind, *detail = answer
        if kind == "ok":
            return
        if kind == "stale":
            raise StaleCorrelation(*detail)
        if kind == "skipped":
            raise Skipped(*detail)
        if kind == "conflict":
            raise ConcurrencyConflict(*detail)
        if kind == "key":
            key, holder = detail
            raise KeyConflict(key, holder)
        raise WriterFailed(f"the writer process failed:\n{detail[0]}")

    def close(self) -> None:
        """Let the child finish its jobs, then stop it."""
        while self._in_flight:
            with suppress(WriterFailed, *NOT_WRITTEN):
                self.land()
        with suppress(OSError):
            self._to_child.close()  # end of input: the child leaves its loop
        try:
            self._process.wait(CLOSE_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from_child.close()

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


def serve(
    url: str, gc_threshold: tuple[int, int, int], inbox: Connection, outbox: Connection
) -> None:
    """The child's loop: write each job received, answer how it went; stop at the end of
    the input (the parent closed it, or went away)."""
    gc.set_threshold(*gc_threshold)  # the parent's process-wide tuning, here too
    engine = create_engine(url)
    sequencer = _Sequencer(SqlStore(engine))
    received: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read_ahead() -> None:
        # Takes the next jobs off the pipe while one is written, so the parent never
        # waits for the writer to hand one over.
        while True:
            try:
                received.put(inbox.recv_bytes())
            except (EOFError, OSError):
                received.put(None)
                return

    threading.Thread(target=read_ahead, name="relevo-writer-reader", daemon=True).start()
    try:
        while (message := received.get()) is not None:
            answer: tuple[Any, ...]
            try:
                sequencer.write(pickle.loads(message))
                answer = ("ok",)
            except Skipped as skipped:
                answer = ("skipped", str(skipped))
            except StaleCorrelation as stale:
                answer = ("stale", str(stale))
            except ConcurrencyConflict as conflict:
                answer = ("conflict", str(conflict))
            except KeyConflict as conflict:
                answer = ("key", conflict.key, conflict.holder)
            except Exception:
                answer = ("error", traceback.format_exc())
            outbox.send(answer)
    finally:
        engine.dispose()
