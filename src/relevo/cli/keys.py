"""``relevo keys``: API keys for back-ends and channels."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from relevo.cli.common import err, failures, open_hub, out
from relevo.services import keys

app = typer.Typer(help="API keys (scopes: ingest, channel, admin).", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who uses the key, e.g. portability-gateway.")],
    scope: Annotated[
        list[str],
        typer.Option(help="ingest, channel or admin (admin implies all); repeat for several."),
    ],
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    with failures(), open_hub() as hub:
        key_id, plaintext = keys.create_key(hub.store, name, scope)
    out.print(f"id:     {key_id}\nname:   {name}\nscopes: {', '.join(sorted(set(scope)))}")
    out.print(f"key:    {plaintext}", markup=False)
    err.print("Store the key now: relevo keeps only its hash and cannot show it again.")


@app.command("list")
def list_command() -> None:
    """List every key (never the secrets)."""
    with failures(), open_hub() as hub:
        rows = keys.list_keys(hub.store)
    table = Table("id", "name", "prefix", "scopes", "created", "revoked")
    for row in rows:
        table.add_row(
            row.id,
            row.name,
            f"rlv_{row.prefix}_…",
            ", ".join(sorted(row.scopes)),
            row.created_at,
            row.revoked_at or "",
        )
    out.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key_…).")]) -> None:
    """Revoke a key; running servers stop accepting it within their key cache time (30 s)."""
    with failures(), open_hub() as hub:
        keys.revoke_key(hub.store, key_id)
    out.print(f"Revoked {key_id}.")
