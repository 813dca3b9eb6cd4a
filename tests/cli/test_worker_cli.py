"""``relevo worker --once``, ``relevo outbox`` and ``relevo subscriptions``, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_access, build_hub
from relevo.cli import app
from relevo.config import Settings
from relevo.services.delivery_records import SENT, AttemptRow
from relevo.services.hub import Hub
from relevo.services.records import OutboxRow, WriteBatch


@pytest.fixture
def runner(db_url: str, store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RELEVO_DATABASE_URL", db_url)
    monkeypatch.setenv("RELEVO_OUTBOX_MAX_ATTEMPTS", "1")
    return CliRunner()


@pytest.fixture
def hub(db_url: str) -> Iterator[Hub]:
    hub = build_hub(Settings(database_url=db_url))
    yield hub
    hub.store.engine.dispose()  # type: ignore[attr-defined]


def test_the_worker_refuses_to_start_without_a_link_secret(
    runner: CliRunner, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RELEVO_LINK_SECRET", raising=False)

    refused = runner.invoke(app, ["worker", "--once"])

    assert refused.exit_code == 1
    assert "RELEVO_LINK_SECRET" in refused.output


def test_a_pass_a_dead_message_and_its_replay(
    runner: CliRunner, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELEVO_LINK_SECRET", "a-test-secret-of-some-length")
    created = runner.invoke(app, ["subscriptions", "create", "http://127.0.0.1:9/x", "-e", "*"])
    assert created.exit_code == 0, created.output
    assert "whsec_" in created.output
    at = datetime.now(UTC).isoformat()
    with hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=[OutboxRow("prc_1", "t", {}, "k-1", at)], at=at))
        uow.commit()

    passed = runner.invoke(app, ["worker", "--once"])
    assert passed.exit_code == 0, passed.output
    assert "1 message(s) claimed; attempts: 1 failed_transient; 1 dead" in passed.output

    listed = runner.invoke(app, ["outbox", "list"])
    assert "1 message(s) with status dead." in listed.output
    assert "ConnectError" in listed.output
    outbox_id = listed.output.split()[0].lstrip("#")
    replayed = runner.invoke(app, ["outbox", "replay", outbox_id])
    assert replayed.exit_code == 0 and "pending again" in replayed.output
    again = runner.invoke(app, ["outbox", "replay", outbox_id])
    assert again.exit_code == 1 and "still pending" in again.output

    listing = runner.invoke(app, ["subscriptions", "list"])
    sub_id = listing.output.split()[0]
    rotated = runner.invoke(app, ["subscriptions", "rotate", sub_id])
    assert "previous secret signs too until" in rotated.output
    assert runner.invoke(app, ["subscriptions", "deactivate", sub_id]).exit_code == 0
    assert runner.invoke(app, ["subscriptions", "deactivate", "sub_x"]).exit_code == 1


def test_a_purge_deletes_old_attempts_of_finished_messages(runner: CliRunner, hub: Hub) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    with hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=[OutboxRow("prc_1", "t", {}, "k-1", long_ago)], at=long_ago))
        (entry,) = uow.claim_outbox("w", long_ago, long_ago, 10)
        sent = AttemptRow(entry.id, "prc_1", "t", 1, long_ago, SENT, "", None, SENT, 1, long_ago)
        uow.record_attempts("w", [sent])
        uow.commit()

    kept = runner.invoke(app, ["outbox", "purge", "--older-than", "41"])
    assert kept.exit_code == 0, kept.output
    assert "deleted 0 attempt(s) of 0 message(s)" in kept.output
    purged = runner.invoke(app, ["outbox", "purge", "--older-than", "30"])
    assert purged.exit_code == 0, purged.output
    assert "deleted 1 attempt(s) of 1 message(s)" in purged.output
    with hub.store.unit_of_work(read_only=True) as uow:
        assert uow.delivery_attempts(process_id="prc_1") == []
        assert uow.get_outbox_entry(entry.id) is not None  # the message itself stays
    refused = runner.invoke(app, ["outbox", "purge", "--older-than", "0"])
    assert refused.exit_code == 2 and "older-than" in refused.output


def test_an_access_purge_deletes_expired_link_uses(runner: CliRunner, hub: Hub) -> None:
    access = build_access(hub.store)
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=3)
    expired, valid = (now - timedelta(days=2)).isoformat(), (now + timedelta(days=1)).isoformat()
    for digest, expires in (("a" * 64, expired), ("b" * 64, valid)):
        assert access.use_link(digest, "prc_1", expires, long_ago.isoformat(), since="", most=1)

    kept = runner.invoke(app, ["access", "purge", "--older-than", "72"])
    assert kept.exit_code == 0, kept.output
    assert "deleted 0 link use(s)" in kept.output
    purged = runner.invoke(app, ["access", "purge", "--older-than", "24"])
    assert purged.exit_code == 0, purged.output
    assert "deleted 1 link use(s), 0 code(s) and 0 rate-limit count(s)" in purged.output
    # The valid link stays used up.
    assert not access.use_link("b" * 64, "prc_1", valid, now.isoformat(), since="", most=1)
    refused = runner.invoke(app, ["access", "purge", "--older-than", "0"])
    assert refused.exit_code == 2 and "older-than" in refused.output
