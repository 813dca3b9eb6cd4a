"""``relevo keys``: API keys for back-ends and channels."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from relevo.cli.common import err, failures, minute, open_hub, out
from relevo.config import Settings
from relevo.services import keys

app = typer.Typer(
    help="API keys (scopes: ingest, channel, admin).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


class Output(StrEnum):
    """How ``keys create`` prints the new key."""

    TEXT = "text"
    JSON = "json"


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who uses the key, e.g. portability-gateway.")],
    scope: Annotated[
        list[str],
        typer.Option(help="ingest, channel or admin (admin implies all); repeat for several."),
    ],
    output: Annotated[
        Output,
        typer.Option(
            "--output",
            "-o",
            help="json: one JSON object (id, name, scopes, key) on stdout, for scripts.",
        ),
    ] = Output.TEXT,
) -> None:
    """Create a key and print it once: it cannot be shown again.

    On a terminal the key is printed with its id, name and scopes. When stdout is not a
    terminal (a pipe, ``$(…)``), stdout gets the key alone and the rest goes to stderr, so
    ``KEY=$(relevo keys create gw --scope ingest)`` captures just the key.
    """
    with failures(), open_hub() as hub:
        key_id, plaintext = keys.create_key(hub.store, name, scope)
    scopes = sorted(set(scope))
    if output is Output.JSON:
        record = {"id": key_id, "name": name, "scopes": scopes, "key": plaintext}
        typer.echo(json.dumps(record))
    elif _stdout_is_terminal():
        out.print(f"id:     {key_id}\nname:   {name}\nscopes: {', '.join(scopes)}", markup=False)
        out.print(f"key:    {plaintext}", markup=False)
    else:
        err.print(f"id:     {key_id}\nname:   {name}\nscopes: {', '.join(scopes)}", markup=False)
        typer.echo(plaintext)
    err.print("Store the key now: relevo keeps only its hash and cannot show it again.")


def _stdout_is_terminal() -> bool:
    # The stream itself, not rich's guess: FORCE_COLOR must not turn a pipe into a terminal.
    isatty = getattr(out.file, "isatty", None)
    return bool(isatty and isatty())


@app.command("list")
def list_command() -> None:
    """List every key (never the secrets), oldest first, times in UTC."""
    with failures(), open_hub() as hub:
        rows = keys.list_keys(hub.store)
    if not rows:
        err.print("No keys yet: create one with 'relevo keys create NAME --scope SCOPE'.")
        return
    table = Table(box=box.SIMPLE_HEAD, header_style="bold")
    for header in ("id", "name", "starts with", "scopes", "created (UTC)", "revoked (UTC)"):
        table.add_column(header, no_wrap=True)
    for row in rows:
        table.add_row(
            row.id,
            row.name,
            f"rlv_{row.prefix}_",
            ",".join(sorted(row.scopes)),
            minute(row.created_at),
            minute(row.revoked_at) if row.revoked_at else "",
        )
    # Printed at its natural width, as other listing tools do (the terminal wraps long
    # lines): an id cut short to fit a narrow terminal could not be given to `keys revoke`.
    natural = Measurement.get(out, out.options.update(max_width=10_000), table).maximum
    console = out if natural <= out.width else Console(file=out.file, width=natural)
    console.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke a key; running servers refuse it within RELEVO_KEY_CACHE_SECONDS (default 1 s)."""
    with failures(), open_hub() as hub:
        try:
            keys.revoke_key(hub.store, key_id)
        except LookupError as error:
            raise LookupError(f"{error}; 'relevo keys list' shows every key's id") from None
    seconds = Settings.from_env().key_cache_seconds
    out.print(
        f"Revoked {key_id}. Running servers refuse it within {seconds:g} s "
        "(their RELEVO_KEY_CACHE_SECONDS)."
    )
