"""Entry point of the batch writer's child process.

Started by ``ProcessWriter`` as ``python -m relevo.adapters.db.writer_child READ_FD WRITE_FD``
with the database URL and GC thresholds in its environment; not meant to be run by hand.
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection

from relevo.adapters.db.batch_writer import GC_VARIABLE, URL_VARIABLE, serve


def main(argv: list[str]) -> int:
    """Serve write jobs on the two pipe descriptors named in ``argv``; 2 on misuse."""
    url = os.environ.get(URL_VARIABLE)
    if len(argv) != 2 or not url:
        print(
            "relevo's batch writer is started by relevo itself (streamed ingest), not by hand",
            file=sys.stderr,
        )
        return 2
    # Ctrl-C reaches the whole process group; the parent decides what stops, and the end
    # of its pipe tells this process to finish the job in hand and leave.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    low, middle, high = (int(n) for n in os.environ.get(GC_VARIABLE, "700,10,10").split(","))
    inbox = Connection(int(argv[0]), writable=False)
    outbox = Connection(int(argv[1]), readable=False)
    serve(url, (low, middle, high), inbox, outbox)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
