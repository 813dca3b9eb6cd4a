"""``relevo ingest`` with odd lines, on every database: each bad line is refused alone and
kept once as a dead letter naming its file and line; the good lines around it go in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub
from relevo.cli import app
from relevo.config import Settings
from relevo.services.hub import Hub, StartRequest


@pytest.fixture
def runner(db_url: str, store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands use the emptied test database, in one batch writer thread."""
    monkeypatch.setenv("RELEVO_DATABASE_URL", db_url)
    monkeypatch.setenv("RELEVO_INGEST_WRITER", "thread")
    monkeypatch.delenv("RELEVO_CATALOG_DIR", raising=False)
    return CliRunner()


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    """A hub on the same database as the commands, with one process started."""
    hub = build_hub(Settings(database_url=db_url))
    hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id="cust-1",
            subject="612345678",
            attributes={"modality": "postpaid"},
            channel="web",
        )
    )
    yield hub
    hub.store.engine.dispose()


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def event(number: int, **changes: Any) -> bytes:
    raw: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"e-{number}",
        "source": "/gateway",
        "type": "sim.shipped",
        "time": datetime.now(UTC).isoformat(),
        "data": {"msisdn": "612345678"},
    }
    raw.update(changes)
    # The standard encoder writes any depth (orjson stops at 254 levels).
    return json.dumps(raw, separators=(",", ":")).encode()


#: (line number, the line, words its report names); line 1 and the last line are good.
BAD_LINES: list[tuple[int, bytes, str]] = [
    (2, event(2, id="e" * 201), "'id' is 201 characters long; at most 200"),
    (3, event(3, source="/gw\u0000"), "'source' contains a NUL character"),
    (4, event(4, time="0001-01-01T00:00:00+14:00"), "is out of range"),
    (5, event(5, time="9999-12-31T23:59:59-14:00"), "is out of range"),
    (6, event(6, data=nested(300)), "data nests deeper than 32 levels"),
    (7, event(7, type="t" * 101), "'type' is 101 characters long; at most 100"),
    (8, event(8, data={"blob": "x" * (300 * 1024)}), "one event may be at most 256 KiB"),
    (9, b'{"specversion": "1.0", "id": ', "line 9 is not valid JSON"),
    (10, event(10, relevochannel="c" * 41), "'relevochannel' is 41 characters long"),
]


def test_bad_lines_are_dead_letters_with_their_line_and_a_rerun_keeps_one_each(
    runner: CliRunner, hub: Hub, tmp_path: Path
) -> None:
    file = tmp_path / "odd.jsonl"
    rows = [event(1), *(line for _, line, _ in BAD_LINES), event(11)]
    file.write_bytes(b"\n".join(rows) + b"\n")

    first = runner.invoke(app, ["ingest", str(file), "--batch", "4"])
    second = runner.invoke(app, ["ingest", str(file), "--batch", "4"])

    assert first.exit_code == 1, first.output
    assert "Traceback" not in first.output
    for number, _, words in BAD_LINES:
        reported = [row for row in first.stderr.splitlines() if row.startswith(f"{file}:{number}:")]
        assert reported and words in " ".join(reported), (number, first.stderr)
    states = hub.states([pid["id"] for pid in hub.find(customer_id="cust-1")])
    [state] = states.values()
    assert state.version == 3  # both good lines applied
    assert second.exit_code == 1, second.output
    letters = hub.dead_letters()
    assert len(letters) == len(BAD_LINES)
    kept = {letter["payload"]["line"]: letter for letter in letters}
    assert set(kept) == {number for number, _, _ in BAD_LINES}
    assert all(letter["payload"]["file"] == "odd.jsonl" for letter in letters)
    assert kept[2]["payload"]["text"] == BAD_LINES[0][1].decode()
    assert len(kept[8]["payload"]["text"]) <= 64 * 1024
