"""``relevo definitions``: check definition files, print their JSON Schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from relevo.cli.common import err, failures, out
from relevo.domain.definitions import Definition
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.operator_terms import OperatorTerms
from relevo.domain.validation import parse
from relevo.services.catalog import TERMS_FILE, load_terms, shipped_files, terms_problems

app = typer.Typer(help="Process definitions.", no_args_is_help=True, rich_markup_mode="markdown")

_SUFFIXES = (".yaml", ".yml")


@app.command("check")
def check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders; default: the shipped catalog and RELEVO_CATALOG_DIR.",
        ),
    ] = None,
) -> None:
    """Check definition files, and that the operator's terms (``operator.toml`` of a given
    folder, of RELEVO_CATALOG_DIR, or the shipped one) give every compensation right and
    commitment they name; prints every problem as file:line: path: message, exits 1."""
    with failures():
        files, problems = _collect(paths or [])
        try:
            terms: OperatorTerms | None = load_terms(_terms_folder(paths or []))
        except DefinitionError as error:
            problems.extend(error.problems)
            terms = None
        checked = 0
        for name, text in files:
            checked += 1
            try:
                definition = parse(text, name)
            except DefinitionError as error:
                problems.extend(error.problems)
                continue
            if terms is not None:
                problems.extend(terms_problems(definition, terms, text, name))
    for problem in problems:
        err.print(str(problem), markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    if not checked:
        err.print("No definition files (*.yaml, *.yml) found.")
        raise typer.Exit(1)
    out.print(f"{checked} definition file(s) OK.")


@app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead.")
    ] = None,
) -> None:
    """Print the JSON Schema of a process definition (for editors and CI)."""
    text = json.dumps(Definition.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        out.print(text, markup=False, highlight=False, end="", soft_wrap=True)
        return
    with failures():
        output.write_text(text, encoding="utf-8")
    err.print(f"Wrote {output}.")


def _terms_folder(paths: list[Path]) -> Path | None:
    """The folder whose ``operator.toml`` applies: the first given folder holding one, else
    RELEVO_CATALOG_DIR (``None``: the shipped terms)."""
    for path in paths:
        if path.is_dir() and (path / TERMS_FILE).is_file():
            return path
    extra = os.environ.get("RELEVO_CATALOG_DIR")
    return Path(extra) if extra and not paths else None


def _collect(paths: list[Path]) -> tuple[list[tuple[str, str]], list[Problem]]:
    """``(name, text)`` of every file to check, and problems with the paths themselves."""
    if not paths:
        files = [(f"relevo/catalog/{name}", text) for name, text in shipped_files()]
        extra = os.environ.get("RELEVO_CATALOG_DIR")
        if not extra:
            return files, []
        paths = [Path(extra)]
    else:
        files = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
            files.extend((str(p), p.read_text(encoding="utf-8")) for p in found)
        elif path.is_file():
            files.append((str(path), path.read_text(encoding="utf-8")))
        else:
            problems.append(Problem(str(path), None, "", "no such file or folder"))
    return files, problems
