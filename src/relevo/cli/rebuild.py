"""``relevo rebuild``: recompute every projection from the event log."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from relevo.cli.common import err, failures, open_hub, out


def rebuild_command() -> None:
    """Rebuild every process from its log; lists and repairs differences, exits 1 if any."""
    with failures(), open_hub() as hub:
        progress = Progress(
            TextColumn("[bold]rebuild"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        with progress:
            task = progress.add_task("rebuild", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = hub.rebuild(progress=advance)
    differences = report["differences"]
    out.print(
        f"Rebuilt {report['processes']} process(es) from {report['events']} event(s): "
        f"{len(differences)} difference(s)."
    )
    if not differences:
        return
    table = Table("process", "fields that differed", title="Projections repaired from the log")
    for difference in differences:
        table.add_row(difference["process_id"], ", ".join(difference["fields"]))
    out.print(table)
    raise typer.Exit(1)
