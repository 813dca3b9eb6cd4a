"""The ``relevo`` command line, run in-process against a migrated database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub
from relevo.cli import app
from relevo.cli import keys as keys_cli
from relevo.config import Settings
from relevo.services.catalog import shipped_files
from relevo.services.hub import Hub, StartRequest
from relevo.services.keys import list_keys, verify_key


@pytest.fixture
def runner(db_url: str, store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands use the emptied test database."""
    monkeypatch.setenv("RELEVO_DATABASE_URL", db_url)
    monkeypatch.delenv("RELEVO_CATALOG_DIR", raising=False)
    return CliRunner()


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    """A hub on the same database as the commands, for setting up and checking."""
    hub = build_hub(Settings(database_url=db_url))
    yield hub
    hub.store.engine.dispose()


def shipped_definition() -> str:
    return (resources.files("relevo") / "catalog" / "mobile_port_in.v1.yaml").read_text("utf-8")


def test_definitions_check_reports_file_and_line_of_each_problem(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = shipped_definition()
    lines = text.splitlines()
    line = next(n for n, row in enumerate(lines, 1) if row == "    actor: current_provider")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("    actor: current_provider\n", "    actor: martians\n", 1))
    (tmp_path / "good.yml").write_text(text)

    result = runner.invoke(app, ["definitions", "check", str(tmp_path)])

    assert result.exit_code == 1
    assert f"{broken}:{line}: stages.1.actor: Input should be 'customer'" in result.output
    assert "good.yml" not in result.output


def test_definitions_check_reports_the_newer_constructs_with_file_and_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "definitions"
    text = (fixture / "two_line_port.v1.yaml").read_text("utf-8")
    wrong = {
        "when: {incidents.NO_SIM: {not_equals: open}}": "when: {incidents.NO_SIMS: open}",
        "contract_end)": "contract_ends)",
        "notify: [cancelled_technical]\n": "notify: [cancelled_technical]\n        to: active\n",
    }
    for old, new in wrong.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    broken = tmp_path / "two_line_port.v1.yaml"
    broken.write_text(text)
    lines = text.splitlines()

    def line(needle: str) -> int:
        return next(n for n, row in enumerate(lines, 1) if needle in row)

    result = runner.invoke(app, ["definitions", "check", str(tmp_path)])

    assert result.exit_code == 1
    # A schema error comes alone (the cross-references need a valid schema first).
    assert f"{broken}:{line('- when: {data.cause: technical}')}: transitions.7.also.0:" in (
        result.output
    )
    broken.write_text(text.replace("        to: active\n", ""))
    result = runner.invoke(app, ["definitions", "check", str(tmp_path)])
    assert f"{broken}:{line('incidents.NO_SIMS')}: transitions.2.when.incidents.NO_SIMS:" in (
        result.output
    )
    assert f"{broken}:{line('contract_ends)')}: dates.cancel_until.rule:" in result.output


def test_definitions_check_reports_numeric_comparisons_with_file_and_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (resources.files("relevo") / "catalog" / "offboarding.v3.yaml").read_text("utf-8")
    broken = tmp_path / "offboarding.v3.yaml"

    # The energy charge within its cap.
    within = (
        "      attributes.first_renewal_passed: {not_equals: true}\n"
        "      data.amount: {at_most: data.cap}"
    )
    assert text.count(within) == 1

    def check(new: str) -> tuple[str, int]:
        changed = text.replace(within, within.replace("{at_most: data.cap}", new))
        broken.write_text(changed)
        line = next(n for n, row in enumerate(changed.splitlines(), 1) if new in row)
        result = runner.invoke(app, ["definitions", "check", str(tmp_path)])
        assert result.exit_code == 1
        return " ".join(result.output.split()), line

    # A literal written as text, named on the line of the comparison.
    said, line = check('{at_most: "12.00"}')
    assert f"{broken}:{line}: transitions.12.when.data.amount.at_most:" in said
    assert "at_most '12.00' is neither a number nor a value path: write 12.00 without quotes" in (
        said
    )
    # A data field the event does not declare.
    said, line = check("{at_most: data.limit}")
    assert f"{broken}:{line}: transitions.12.when.data.amount.at_most:" in said
    assert "data.limit: unknown data field 'limit'" in said
    # An attribute that only ever holds words.
    said, line = check("{at_most: attributes.sector}")
    assert f"{broken}:{line}: transitions.12.when.data.amount.at_most:" in said
    assert "attribute 'sector' only ever holds 'energy', 'telecom', not a number" in said


def test_definitions_check_passes_on_the_shipped_catalog(runner: CliRunner) -> None:
    result = runner.invoke(app, ["definitions", "check"])

    assert result.exit_code == 0, result.output
    assert f"{len(shipped_files())} definition file(s) OK." in result.output


def test_definitions_check_names_a_commitment_the_operators_terms_lack(
    runner: CliRunner, tmp_path: Path
) -> None:
    catalog = resources.files("relevo") / "catalog"
    text = (catalog / "billing_cycle.v2.yaml").read_text("utf-8")
    terms = (catalog / "operator.toml").read_text("utf-8")
    (tmp_path / "billing_cycle.v2.yaml").write_text(text, encoding="utf-8")
    # The operator's own terms without the refund commitment.
    kept = terms.split("[commitments.refund_resend]")[0]
    (tmp_path / "operator.toml").write_text(kept, encoding="utf-8")
    line = next(
        n for n, row in enumerate(text.splitlines(), 1) if "{commitments.refund_resend}" in row
    )

    result = runner.invoke(app, ["definitions", "check", str(tmp_path)])

    assert result.exit_code == 1
    assert (
        f"{tmp_path / 'billing_cycle.v2.yaml'}:{line}: "
        "controls.choose_refund_account.description.es: "
        "placeholder {commitments.refund_resend} names a commitment that is not in the "
        "operator's terms"
    ) in result.output


def test_definitions_check_names_a_missing_path(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["definitions", "check", str(tmp_path / "nope.yaml")])

    assert result.exit_code == 1
    assert "nope.yaml: no such file or folder" in result.output


def test_definitions_schema_is_the_json_schema_of_a_definition(runner: CliRunner) -> None:
    result = runner.invoke(app, ["definitions", "schema"])

    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"kind", "version", "stages", "controls"} <= set(schema["properties"])


def test_keys_create_prints_a_working_key_once(
    runner: CliRunner, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys_cli, "_stdout_is_terminal", lambda: True)

    result = runner.invoke(
        app, ["keys", "create", "gateway", "--scope", "ingest", "--scope", "channel"]
    )

    assert result.exit_code == 0, result.output
    [key_line] = [row for row in result.stdout.splitlines() if row.startswith("key:")]
    plaintext = key_line.split()[-1]
    assert plaintext.startswith("rlv_")
    key = verify_key(hub.store, plaintext)
    assert key is not None
    assert key.name == "gateway"
    assert key.scopes == {"ingest", "channel"}
    assert "scopes: channel, ingest" in result.stdout
    assert "cannot show it again" in result.stderr


def test_keys_create_into_a_pipe_prints_the_key_alone_on_stdout(
    runner: CliRunner, hub: Hub
) -> None:
    result = runner.invoke(app, ["keys", "create", "gateway", "--scope", "ingest"])

    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert result.stdout == plaintext + "\n"
    key = verify_key(hub.store, plaintext)
    assert key is not None
    assert key.name == "gateway"
    assert "id:     key_" in result.stderr
    assert "cannot show it again" in result.stderr


def test_keys_create_output_json_is_one_object_for_scripts(runner: CliRunner, hub: Hub) -> None:
    result = runner.invoke(
        app,
        ["keys", "create", "gateway", "--scope", "ingest", "--scope", "admin", "--output", "json"],
    )

    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert set(record) == {"id", "name", "scopes", "key"}
    assert (record["name"], record["scopes"]) == ("gateway", ["admin", "ingest"])
    key = verify_key(hub.store, record["key"])
    assert key is not None
    assert key.id == record["id"]


def test_keys_create_refuses_an_unknown_scope(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "gateway", "--scope", "wizard"])

    assert result.exit_code == 1
    assert "unknown scope(s) wizard; valid scopes are ingest, channel, admin" in result.output
    assert "Traceback" not in result.output


def test_an_interrupted_ingest_says_how_far_it_got_and_how_to_finish(
    runner: CliRunner, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        orjson.dumps({"specversion": "1.0", "id": f"e-{n}", "source": "/gw", "type": "x.y"})
        for n in range(6)
    ]
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    stream = Hub.ingest_stream

    def interrupted_after_one_batch(self: Hub, batches: Any) -> Iterator[Any]:
        for n, results in enumerate(stream(self, batches)):
            if n == 1:
                raise KeyboardInterrupt
            yield results

    monkeypatch.setattr(Hub, "ingest_stream", interrupted_after_one_batch)

    result = runner.invoke(app, ["ingest", str(file), "--batch", "2"])

    assert result.exit_code == 130
    said = " ".join(result.stderr.split())  # as one line, whatever the console's width
    assert said.startswith("Interrupted.")
    assert "lines up to 2 are applied" in said
    assert "Run the same command again to finish" in said


def test_ingest_reports_counts_and_rejected_lines_and_dead_letters_them(
    runner: CliRunner, hub: Hub, tmp_path: Path
) -> None:
    hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id="cust-1",
            subject="612345678",
            keys={},
            attributes={"modality": "postpaid"},
            language="es",
            channel="web",
            actor="test",
        )
    )
    now = datetime.now(UTC).isoformat()
    good = {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/gateway",
        "type": "nc.accepted",
        "time": now,
        "data": {"msisdn": "612345678", "reference": "NC-1", "window": "2030-01-08T02:00:00Z"},
    }
    confirmed = {**good, "id": "e-2", "type": "donor.confirmed", "data": {"msisdn": "612345678"}}
    no_source = {"specversion": "1.0", "id": "e-3", "type": "sim.shipped"}
    rows = [
        orjson.dumps(good),
        b"",
        b'{"specversion": "1.0", "id": ',
        orjson.dumps(confirmed),
        orjson.dumps(no_source),
        orjson.dumps(good),
    ]
    file = tmp_path / "events.jsonl"
    file.write_bytes(b"\n".join(rows) + b"\n")

    result = runner.invoke(app, ["ingest", str(file), "--batch", "2"])

    assert result.exit_code == 1, result.output
    assert "accepted" in result.stdout and "rejected" in result.stdout
    cells = [[cell for cell in row.split() if cell != "│"] for row in result.stdout.splitlines()]
    counts = {
        row[0]: int(row[1])
        for row in cells
        if len(row) == 2 and row[0] in ("accepted", "duplicate", "ignored", "rejected")
    }
    assert counts == {"accepted": 2, "duplicate": 1, "ignored": 0, "rejected": 2}
    assert f"{file}:3: line 3 is not valid JSON" in result.stderr
    assert f"{file}:5: invalid CloudEvent: missing required attribute 'source'" in result.stderr
    assert len(hub.dead_letters()) == 2

    listed = runner.invoke(app, ["dead-letters", "list"])
    assert listed.exit_code == 0, listed.output
    assert "2 dead letter(s) with status open." in listed.stdout


def test_db_upgrade_migrates_an_empty_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RELEVO_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")

    first = CliRunner().invoke(app, ["db", "upgrade"])
    second = CliRunner().invoke(app, ["db", "upgrade"])

    assert first.exit_code == 0, first.output
    assert "Migrated the database from empty to" in first.stdout
    assert "already at the latest schema" in second.stdout


def test_rebuild_reports_no_difference_on_a_consistent_store(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rebuild"])

    assert result.exit_code == 0, result.output
    assert "0 difference(s)" in result.stdout


def test_replaying_an_unknown_dead_letter_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dead-letters", "replay", "999"])

    assert result.exit_code == 1
    assert "no dead letter with id 999" in result.output
    assert "Traceback" not in result.output


def test_keys_list_shows_every_key_without_its_secret_and_revoke_stops_it(
    runner: CliRunner, hub: Hub
) -> None:
    created = runner.invoke(
        app, ["keys", "create", "store-till", "--scope", "channel", "--output", "json"]
    )
    record = json.loads(created.stdout)
    key_id, plaintext = record["id"], record["key"]

    listed = runner.invoke(app, ["keys", "list"])

    assert listed.exit_code == 0, listed.output
    assert key_id in listed.output
    assert "store-till" in listed.output
    assert plaintext not in listed.output
    assert plaintext.split("_", 2)[2] not in listed.output  # the secret part, never shown
    assert "…" not in listed.output  # nothing cut short, however narrow the terminal

    revoked = runner.invoke(app, ["keys", "revoke", key_id])

    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked {key_id}." in revoked.output
    assert key_id in runner.invoke(app, ["keys", "list"]).output
    assert verify_key(hub.store, plaintext) is None
    [row] = [row for row in list_keys(hub.store) if row.id == key_id]
    assert row.revoked_at is not None


def test_revoking_an_unknown_key_is_a_clear_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "revoke", "key_nobody"])

    assert result.exit_code == 1
    assert "no API key key_nobody; 'relevo keys list' shows every key's id" in result.output
    assert "Traceback" not in result.output


def test_keys_list_on_an_empty_store_says_how_to_create_one(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "list"])

    assert result.exit_code == 0
    assert "No keys yet: create one with 'relevo keys create NAME --scope SCOPE'." in result.output


def test_dead_letters_list_shows_each_letter_whole_with_what_to_do(
    runner: CliRunner, tmp_path: Path
) -> None:
    unknown = {
        "specversion": "1.0",
        "id": "msg-[42]",
        "source": "crm[eu-west]/orders",
        "type": "donor.confirmed",
        "data": {"msisdn": "699000111"},
    }
    file = tmp_path / "events.jsonl"
    file.write_bytes(orjson.dumps(unknown) + b"\n")
    runner.invoke(app, ["ingest", str(file)])

    listed = runner.invoke(app, ["dead-letters", "list"])

    assert listed.exit_code == 0, listed.output
    text = " ".join(listed.stdout.split())  # however the terminal wrapped it
    assert re.search(r"#\d+ open received \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    # Square brackets are data, not console markup; nothing is cut short.
    assert "from crm[eu-west]/orders · message msg-[42] · type donor.confirmed" in text
    assert "no process holds the correlation key msisdn='699000111'" in text
    assert "…" not in text
    assert "Replay one with 'relevo dead-letters replay ID' once its cause is fixed." in text


def test_an_error_message_is_printed_whole_even_with_brackets_in_it(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "revoke", "key_[bold][/x]"])

    assert result.exit_code == 1
    assert "error: no API key key_[bold][/x];" in " ".join(result.output.split())
    assert "Traceback" not in result.output
