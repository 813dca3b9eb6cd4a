"""The batch writer's child process: its entry point and its loop.

Started by ``ProcessWriter`` as ``python -m relevo.adapters.db.writer_child IN_FD OUT_FD``
with the variables of ``writer_protocol`` in its environment; not meant to be run by hand.
It reads ``ToWriter`` messages and answers each job with a ``FromWriter`` one (see
``docs/streamed-ingest.md``).
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import signal
import sys
import threading
from multiprocessing.connection import Connection

from relevo.adapters.db.batch_writer import Sequencer, answer_for
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.adapters.db.writer_protocol import (
    GC_VARIABLE,
    URL_VARIABLE,
    FromWriter,
    Stop,
    ToWriter,
    Written,
)


def main(argv: list[str]) -> int:
    """Serve write jobs on the two pipe descriptors named in ``argv``; 2 on misuse."""
    url = os.environ.get(URL_VARIABLE)
    if len(argv) != 2 or not url:
        print(
            "relevo's batch writer is started by relevo itself (streamed ingest), not by hand",
            file=sys.stderr,
        )
        return 2
    # Ctrl-C reaches the whole process group; the parent decides what stops, and its
    # ``Stop`` (or the end of its pipe) tells this process to finish the job in hand and leave.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    low, middle, high = (int(n) for n in os.environ.get(GC_VARIABLE, "700,10,10").split(","))
    inbox = Connection(int(argv[0]), writable=False)
    outbox = Connection(int(argv[1]), readable=False)
    serve(url, (low, middle, high), inbox, outbox)
    return 0


def serve(
    url: str, gc_threshold: tuple[int, int, int], inbox: Connection, outbox: Connection
) -> None:
    """Write each job received and answer how it went, until ``Stop`` or the end of the
    input (the parent went away)."""
    gc.set_threshold(*gc_threshold)  # the parent's process-wide tuning, here too
    engine = create_engine(url)
    sequencer = Sequencer(SqlStore(engine))
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
        while (raw := received.get()) is not None:
            message: ToWriter = pickle.loads(raw)
            if isinstance(message, Stop):
                break
            answer: FromWriter
            try:
                sequencer.write(message)
                answer = Written()
            except Exception as error:
                answer = answer_for(error)
            outbox.send(answer)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
