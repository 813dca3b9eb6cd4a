"""``relevo ingest``: send a JSONL file of CloudEvents through the hub, batch by batch."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from relevo.bootstrap import tune_runtime
from relevo.cli.common import err, fail, failures, open_hub, out
from relevo.domain.model import Outcome
from relevo.services.inbound import InboundBatch
from relevo.services.intake import Line, Screened, Unreadable, counts, screen

#: How many rejected lines are listed one by one before summarising the rest.
SHOWN_REJECTIONS = 50


def ingest_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CloudEvents, one JSON per line."
        ),
    ],
    batch: Annotated[int, typer.Option(min=1, max=20_000, help="Events per transaction.")] = 500,
) -> None:
    """Ingest a JSONL file of CloudEvents; exits 1 if any line was rejected.

    Invalid lines are reported with their line numbers and kept as dead letters.
    """
    if _is_simulation(file):
        raise fail(
            f"{file} holds process starts and customer actions written by 'relevo simulate' "
            "(lines of type relevo.process.*), on a simulated clock with timers to fire: load "
            f"it with 'relevo simulate --replay {file}' instead. 'relevo ingest' takes "
            "back-end CloudEvents only."
        )
    tune_runtime()
    with failures(), open_hub() as hub:
        tally = {outcome.value: 0 for outcome in Outcome}
        rejected: list[tuple[int, str]] = []
        progress = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        with progress:
            task = progress.add_task("ingest", total=file.stat().st_size)
            # Batches go through the hub's pipeline: the next ones are decided while the
            # previous ones are written. Results come back in order, a batch or two behind.
            waiting: deque[tuple[list[int], Screened, int]] = deque()

            def screened_batches() -> Iterator[InboundBatch]:
                for lines, items, size in _batches(file, batch):
                    screened = screen(items, hub.clock, hub.limits, lines)
                    waiting.append(([line.number for line in lines], screened, size))
                    yield screened.batch

            done = 0  # the last line of the last batch whose results came back
            try:
                for ingested in hub.ingest_stream(screened_batches()):
                    lines, screened, size = waiting.popleft()
                    results = screened.complete(ingested)
                    for outcome, n in counts(results).items():
                        tally[outcome] += n
                    for result in results:
                        if result.outcome is Outcome.REJECTED:
                            rejected.append((lines[result.index], result.reason or "rejected"))
                    done = lines[-1] if lines else done
                    progress.advance(task, size)
            except KeyboardInterrupt:
                progress.stop()
                err.print(
                    f"Interrupted. {file}: lines up to {done:,} are applied, and perhaps a "
                    "batch or two after them. Run the same command again to finish: what was "
                    "already received is reported as a duplicate, nothing is applied twice.",
                    markup=False,
                )
                raise typer.Exit(130) from None
        _report(file, tally, rejected)
    if rejected:
        raise typer.Exit(1)


def _is_simulation(file: Path) -> bool:
    """Whether the file's first event is a command line written by ``relevo simulate``."""
    with file.open("rb") as stream:
        for line in stream:
            if line.strip():
                try:
                    first = orjson.loads(line)
                except orjson.JSONDecodeError:
                    return False
                kind = first.get("type") if isinstance(first, dict) else None
                return isinstance(kind, str) and kind.startswith("relevo.process.")
    return False


def _batches(file: Path, size: int) -> Iterator[tuple[list[Line], list[Any], int]]:
    """``(lines, decoded items, bytes read)`` per batch; blank lines are skipped."""
    lines: list[Line] = []
    items: list[Any] = []
    read = 0
    with file.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            read += len(line)
            if not line.strip():
                continue
            lines.append(Line(file.name, number, line.rstrip(b"\r\n")))
            items.append(_decode(line, number))
            if len(items) >= size:
                yield lines, items, read
                lines, items, read = [], [], 0
    if items or read:
        yield lines, items, read


def _decode(line: bytes, number: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as error:
        text = line.decode("utf-8", errors="replace").rstrip("\n")
        return Unreadable(text, f"line {number} is not valid JSON: {error}")


def _report(file: Path, tally: dict[str, int], rejected: list[tuple[int, str]]) -> None:
    title = Text(f"{file.name}: {sum(tally.values()):,} event(s)")  # a name is not markup
    table = Table(title=title, title_justify="left")
    table.add_column("outcome")
    table.add_column("events", justify="right")
    for outcome, n in tally.items():
        table.add_row(outcome, f"{n:,}")
    out.print(table)
    for number, reason in rejected[:SHOWN_REJECTIONS]:
        err.print(f"{file}:{number}: {reason}", markup=False, soft_wrap=True)
    if len(rejected) > SHOWN_REJECTIONS:
        err.print(f"… and {len(rejected) - SHOWN_REJECTIONS} more rejected line(s)")
    if rejected:
        err.print(
            f"{len(rejected)} line(s) rejected and kept as dead letters "
            "(see 'relevo dead-letters list')."
        )
