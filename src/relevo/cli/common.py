"""What every command shares: the consoles, the hub, and turning errors into messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape

from relevo.bootstrap import build_hub
from relevo.config import Settings
from relevo.domain.errors import DefinitionError
from relevo.services.hub import Hub
from relevo.services.records import ConcurrencyConflict, StoreUnavailable

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

#: Set to 1 to see the traceback of an unexpected error instead of one line.
DEBUG_ENV = "RELEVO_DEBUG"


@contextmanager
def open_hub() -> Iterator[Hub]:
    """The hub configured by the ``RELEVO_*`` environment variables, closed on leaving."""
    hub = build_hub(Settings.from_env())
    try:
        yield hub
    finally:
        hub.close()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return the Exit to raise."""
    # Messages carry data (paths, ids, validation details) whose brackets are not markup.
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def failures() -> Iterator[None]:
    """Turn any error raised inside into a clear message and exit status 1, no traceback."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except DefinitionError as error:
        for problem in error.problems:
            err.print(str(problem), soft_wrap=True, markup=False)
        raise fail(f"{len(error.problems)} problem(s) in the process definitions") from None
    except StoreUnavailable as error:
        raise fail(
            f"{error}. Check RELEVO_DATABASE_URL, that the database is up and can write "
            "(not read-only, disk not full), then run the command again: what was already "
            "written is recognised and not applied twice."
        ) from None
    except ConcurrencyConflict as error:
        raise fail(
            f"other writers kept changing the same processes ({error}); nothing of the last "
            "change was written. Run the command again."
        ) from None
    except sa.exc.OperationalError as error:
        raise fail(
            f"the database failed: {error.orig or error}. Check RELEVO_DATABASE_URL "
            "and run 'relevo db upgrade' if the schema is missing."
        ) from None
    except (LookupError, ValueError, OSError) as error:
        raise fail(str(error) or type(error).__name__) from None
    except Exception as error:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        raise fail(
            f"unexpected {type(error).__name__}: {error} (set {DEBUG_ENV}=1 to see where)"
        ) from None


def minute(moment: str) -> str:
    """A stored ISO 8601 UTC time as 'YYYY-MM-DD HH:MM', for listings."""
    return moment[:16].replace("T", " ")
