"""The process catalog: every definition file, loaded and checked once at start-up.

Definitions ship inside the package (``relevo/catalog/*.yaml``); a configured folder may add
kinds or versions, or replace a shipped file by using the same kind and version. Any problem
in any file stops the start with every problem listed, file and line.

Compensation amounts and the lengths of the operator's own commitments are the operator's
terms, not part of a definition: the shipped ``operator.toml`` gives every right and every
commitment its one value, and an ``operator.toml`` in the configured folder replaces it whole.
A definition naming a right or a commitment the terms lack (or a commitment in another unit)
does not load, so the service refuses to start, every such place listed with file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from relevo.domain.compiled import Compiled, compile_definition
from relevo.domain.definitions import Definition
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.operator_terms import (
    OperatorTerms,
    commitment_problems,
    missing_rights,
    parse_terms,
)
from relevo.domain.validation import LineFinder, parse

#: The operator's terms file, shipped in the catalog and optionally in the configured folder.
TERMS_FILE = "operator.toml"


class UnknownKind(LookupError):
    """No definition of that process kind (or version); ``str()`` lists the known ones."""


def shipped_files() -> list[tuple[str, str]]:
    """``(name, text)`` of every definition shipped in the package, sorted by name."""
    folder = resources.files("relevo") / "catalog"
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith((".yaml", ".yml"))
    )


def shipped_terms() -> tuple[str, str]:
    """``(name, text)`` of the operator's terms shipped in the package."""
    entry = resources.files("relevo") / "catalog" / TERMS_FILE
    return TERMS_FILE, entry.read_text(encoding="utf-8")


def load_terms(extra_folder: Path | None = None) -> OperatorTerms:
    """The operator's terms: ``extra_folder/operator.toml`` if there is one, else the shipped
    file; raises DefinitionError naming the file on any problem."""
    name, text = shipped_terms()
    if extra_folder is not None and (extra_folder / TERMS_FILE).is_file():
        path = extra_folder / TERMS_FILE
        name, text = str(path), path.read_text(encoding="utf-8")
    return parse_terms(text, name)


def rights_problems(
    definition: Definition, terms: OperatorTerms, text: str, filename: str
) -> list[Problem]:
    """Every compensation right ``definition`` names that ``terms`` lack (or count another
    way), with the file and line of each ``right``."""
    finder = LineFinder(text)
    return [
        Problem(
            filename, finder.line(("compensation", rule, "right")), f"compensation.{rule}.right", m
        )
        for rule, m in missing_rights(definition, terms).items()
    ]


def terms_problems(
    definition: Definition, terms: OperatorTerms, text: str, filename: str
) -> list[Problem]:
    """Every compensation right and every commitment ``definition`` names that ``terms``
    lack (or give another way), with the file and line of each place."""
    finder = LineFinder(text)
    return rights_problems(definition, terms, text, filename) + [
        Problem(filename, finder.line(path), ".".join(str(part) for part in path), message)
        for path, message in commitment_problems(definition, terms).items()
    ]


def folder_files(folder: Path) -> list[tuple[str, str]]:
    """``(path, text)`` of every definition file in ``folder`` (not recursive)."""
    if not folder.is_dir():
        raise DefinitionError([Problem(str(folder), None, "", "catalog folder does not exist")])
    return sorted(
        (str(path), path.read_text(encoding="utf-8"))
        for path in folder.iterdir()
        if path.suffix in (".yaml", ".yml")
    )


class Catalog:
    """All definitions by kind and version; new processes use each kind's latest version."""

    def __init__(self, compiled: Iterable[Compiled], terms: OperatorTerms | None = None) -> None:
        #: The operator's terms the definitions were compiled with (contact details too).
        self.terms = terms if terms is not None else OperatorTerms()
        self._by_version: dict[tuple[str, int], Compiled] = {}
        self._latest: dict[str, Compiled] = {}
        for item in compiled:
            self._by_version[(item.kind, item.version)] = item
            current = self._latest.get(item.kind)
            if current is None or item.version > current.version:
                self._latest[item.kind] = item

    @classmethod
    def load(cls, extra_folder: Path | None = None) -> Catalog:
        """The shipped catalog plus ``extra_folder``; raises DefinitionError on any problem."""
        files = shipped_files()
        if extra_folder is not None:
            files += folder_files(extra_folder)
        return cls.from_texts(files, load_terms(extra_folder))

    @classmethod
    def from_texts(
        cls, files: Iterable[tuple[str, str]], terms: OperatorTerms | None = None
    ) -> Catalog:
        """A catalog from ``(filename, yaml text)`` pairs and the operator's ``terms`` (default:
        the shipped ones); later files win on equal kind@version."""
        terms = terms if terms is not None else load_terms()
        problems: list[Problem] = []
        compiled: dict[tuple[str, int], Compiled] = {}
        for name, text in files:
            try:
                definition = parse(text, name)
            except DefinitionError as error:
                problems.extend(error.problems)
                continue
            unmet = terms_problems(definition, terms, text, name)
            if unmet:
                problems.extend(unmet)
                continue
            compiled[(definition.kind, definition.version)] = compile_definition(definition, terms)
        if problems:
            raise DefinitionError(problems)
        return cls(compiled.values(), terms)

    def kinds(self) -> list[str]:
        """Every process kind, sorted."""
        return sorted(self._latest)

    def latest(self, kind: str) -> Compiled:
        """The newest version of ``kind``; raises UnknownKind."""
        try:
            return self._latest[kind]
        except KeyError:
            raise UnknownKind(
                f"unknown process kind {kind!r}; known kinds: {', '.join(self.kinds())}"
            ) from None

    def get(self, kind: str, version: int) -> Compiled:
        """Exactly ``kind`` at ``version`` (the one a running process is pinned to)."""
        try:
            return self._by_version[(kind, version)]
        except KeyError:
            raise UnknownKind(f"no definition {kind}@{version} in the catalog") from None

    def all(self) -> list[Compiled]:
        """Every loaded definition, by kind then version."""
        return [self._by_version[key] for key in sorted(self._by_version)]

    def correlation_key_names(self) -> frozenset[str]:
        """Every correlation key name any kind declares (what ingest looks for in data)."""
        return frozenset(
            name for item in self._by_version.values() for name in item.definition.correlation_keys
        )
