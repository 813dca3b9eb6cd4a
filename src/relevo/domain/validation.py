"""Reading a definition from YAML text and checking it, with file and line in every error.

``parse`` turns YAML text into a ``Definition`` (schema errors) and then runs ``check``
(cross-references: unknown stages, unreachable stages, missing cut-offs, unknown dates in
rules and texts, …; see ``crossrefs``). Reading files is the caller's job: this module
only sees text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from relevo.domain.crossrefs import Path, check
from relevo.domain.definitions import Definition
from relevo.domain.errors import DefinitionError, Problem

__all__ = ["DefinitionLoader", "LineFinder", "check", "parse"]


#: libyaml's parser when PyYAML was built with it (the wheels are): the pure-Python one is
#: about ten times slower, and the catalog is read at every start.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DefinitionLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML 1.2-style booleans: only ``true``/``false``, so a key named ``on`` stays a string."""


DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DefinitionLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LineFinder:
    """Maps a path inside the YAML document to the line it is written on (the document is
    composed on the first question: a definition without problems never needs it)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: yaml.Node | None = None
        self._composed = False

    @property
    def root(self) -> yaml.Node | None:
        """The document's node tree, or ``None`` if it is not valid YAML."""
        if not self._composed:
            self._composed = True
            try:
                self._root = yaml.compose(self.text, Loader=DefinitionLoader)
            except yaml.YAMLError:
                self._root = None
        return self._root

    def line(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node of ``path`` that exists."""
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == part), None)
                if pair is None:
                    return best
                # The key's line: a block value (``cancel:`` then its fields) starts below it.
                key, node = pair
                best = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return best
                node = node.value[part]
                best = node.start_mark.line + 1
            else:
                return best
        return best


def parse(text: str, filename: str) -> Definition:
    """The definition written in ``text``; raises DefinitionError listing every problem."""
    try:
        raw = yaml.load(text, Loader=DefinitionLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError([Problem(filename, line, "", f"not valid YAML: {error}")]) from None
    if not isinstance(raw, dict):
        raise DefinitionError([Problem(filename, 1, "", "a definition must be a YAML mapping")])
    finder = LineFinder(text)
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            path = _yaml_path(item["loc"])
            problems.append(
                Problem(filename, finder.line(path), _dotted(path), _message(item["msg"]))
            )
        raise DefinitionError(problems) from None
    problems = [
        Problem(filename, finder.line(path), _dotted(path), message)
        for path, message in check(definition)
    ]
    if problems:
        raise DefinitionError(problems)
    return definition


def _yaml_path(loc: Sequence[Any]) -> Path:
    # pydantic names aliased fields by alias in ``loc``; drop union/type tags it inserts.
    return tuple(
        part for part in loc if not (isinstance(part, str) and ("[" in part or "-" in part))
    )


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _message(text: str) -> str:
    return text.replace("Value error, ", "")
