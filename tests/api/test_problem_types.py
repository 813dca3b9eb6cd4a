"""Every problem type the API can answer is documented, and its base URL is the operator's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub
from relevo.config import DEFAULT_PROBLEM_BASE_URL, Settings
from relevo.web.app import create_app

from .builders import TestClient

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "relevo" / "web"
DOC = ROOT / "docs" / "problems.md"
#: Where the slug sits among the positional arguments of each way to raise or answer one.
SLUG_ARGUMENT = {"ProblemError": 1, "problem": 2}


def slugs_in_code() -> dict[str, str]:
    """Every slug passed to ``ProblemError`` or ``problem`` in relevo.web, with where."""
    found: dict[str, str] = {}
    for path in sorted(WEB.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = SLUG_ARGUMENT.get(node.func.id)
            if position is None or len(node.args) <= position:
                continue
            where = f"{path.name}:{node.lineno}"
            slug = node.args[position]
            if isinstance(slug, ast.Attribute) and slug.attr == "slug":
                continue  # answering a ProblemError: its slug is checked where it is raised
            # A slug computed at run time could not be checked against the documentation.
            assert isinstance(slug, ast.Constant) and isinstance(slug.value, str), where
            found.setdefault(slug.value, where)
    return found


def slugs_documented() -> set[str]:
    """The slugs that head a section of docs/problems.md."""
    return set(re.findall(r"^### ([a-z][a-z-]*)$", DOC.read_text("utf-8"), re.MULTILINE))


def test_every_problem_type_in_the_code_is_documented() -> None:
    used = slugs_in_code()

    assert len(used) >= 20, used  # the scan still finds the calls
    missing = {slug: where for slug, where in used.items() if slug not in slugs_documented()}
    assert not missing, f"add these to docs/problems.md: {missing}"


def test_every_documented_problem_type_is_still_answered() -> None:
    assert slugs_documented() - set(slugs_in_code()) == set()


def test_the_problem_base_url_is_the_one_the_app_was_given(db_url: str, store: SqlStore) -> None:
    hub = build_hub(Settings(database_url=db_url))
    base = "https://docs.example.com/relevo/problems#"
    try:
        with TestClient(create_app(hub, problem_base_url=base)) as client:
            response = client.get("/v1/processes/prc_nobody")
    finally:
        hub.store.engine.dispose()

    assert response.json()["type"] == base + "missing-api-key"


def test_the_problem_base_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEVO_PROBLEM_BASE_URL", raising=False)
    assert Settings.from_env().problem_base_url == DEFAULT_PROBLEM_BASE_URL
    monkeypatch.setenv("RELEVO_PROBLEM_BASE_URL", " https://docs.example.com/problems/ ")
    assert Settings.from_env().problem_base_url == "https://docs.example.com/problems/"
