"""The command line names a database that cannot serve it, without a traceback."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.cli import app


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_ingest_into_a_database_that_cannot_write_says_so_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str
) -> None:
    path = tmp_path / "relevo.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("RELEVO_DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    monkeypatch.setenv("RELEVO_INGEST_WRITER", writer)
    monkeypatch.delenv("RELEVO_CATALOG_DIR", raising=False)
    lines = [
        orjson.dumps({"specversion": "1.0", "id": f"e-{n}", "source": "/gw", "type": "x.y"})
        for n in range(6)
    ]
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")

    result = CliRunner().invoke(app, ["ingest", str(file), "--batch", "2"])

    said = " ".join(result.stderr.split())
    assert result.exit_code == 1, said
    assert "the database cannot serve this now: attempt to write a readonly database" in said
    assert "can write" in said
    assert "Traceback" not in result.output
