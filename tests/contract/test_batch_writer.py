"""The batch writers: each job is checked, written and committed whole, or not at all, and
what went wrong comes back to the process that decided it."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator

import pytest

from relevo.adapters.db.batch_writer import (
    BatchWriter,
    ProcessWriter,
    Skipped,
    StaleCorrelation,
    ThreadWriter,
    WriterFailed,
    answer_for,
    raise_for,
)
from relevo.adapters.db.store import SqlStore, render
from relevo.adapters.db.writer_protocol import COMMIT_DELAY_VARIABLE
from relevo.services.batch_writing import WriteJob
from relevo.services.records import (
    ConcurrencyConflict,
    KeyConflict,
    StoreUnavailable,
    WriteBatch,
)

from .builders import event_entry, make_state, moment, start_batch


@pytest.fixture(params=["process", "thread"])
def writer(request: pytest.FixtureRequest, store: SqlStore) -> Iterator[BatchWriter]:
    made: BatchWriter = ProcessWriter(store) if request.param == "process" else ThreadWriter(store)
    yield made
    made.close()


def second_event(pid: str = "p-1") -> WriteBatch:
    state = make_state(pid, version=2, stage="donor_check")
    return WriteBatch(events=[event_entry(pid, 2)], changed_states=[state], at=moment(5))


def versions(store: SqlStore, *ids: str) -> dict[str, int]:
    with store.unit_of_work(read_only=True) as uow:
        return uow.process_versions(ids)


def test_a_job_is_written_and_committed(store: SqlStore, writer: BatchWriter) -> None:
    writer.launch(WriteJob(render(start_batch("p-1", keys={"msisdn": "600"})), [], {}))
    writer.land()
    writer.launch(
        WriteJob(
            render(second_event()),
            [("msisdn", "600")],
            {("msisdn", "600"): [("mobile_port_in", "p-1")]},
        )
    )
    writer.land()
    assert versions(store, "p-1") == {"p-1": 2}


def test_a_stale_correlation_writes_nothing(store: SqlStore, writer: BatchWriter) -> None:
    writer.launch(WriteJob(render(start_batch("p-1", keys={"msisdn": "600"})), [], {}))
    writer.land()
    decided_when_nobody_held_it = WriteJob(render(second_event()), [("msisdn", "600")], {})
    writer.launch(decided_when_nobody_held_it)
    with pytest.raises(StaleCorrelation):
        writer.land()
    assert versions(store, "p-1") == {"p-1": 1}


def test_a_version_written_meanwhile_is_a_conflict(store: SqlStore, writer: BatchWriter) -> None:
    writer.launch(WriteJob(render(start_batch("p-1")), [], {}))
    writer.land()
    writer.launch(WriteJob(render(second_event()), [], {}))
    writer.land()
    writer.launch(WriteJob(render(second_event()), [], {}))
    with pytest.raises(ConcurrencyConflict, match="already stored"):
        writer.land()
    assert versions(store, "p-1") == {"p-1": 2}


def test_a_taken_key_names_its_holder(store: SqlStore, writer: BatchWriter) -> None:
    writer.launch(WriteJob(render(start_batch("p-1", keys={"msisdn": "600"})), [], {}))
    writer.land()
    writer.launch(WriteJob(render(start_batch("p-2", keys={"msisdn": "600"})), [], {}))
    with pytest.raises(KeyConflict) as conflict:
        writer.land()
    assert conflict.value.key == ("mobile_port_in", "msisdn", "600")
    assert conflict.value.holder == "p-1"
    assert versions(store, "p-1", "p-2") == {"p-1": 1}


def test_after_a_failure_the_rest_of_its_epoch_is_skipped(
    store: SqlStore, writer: BatchWriter
) -> None:
    writer.launch(WriteJob(render(start_batch("p-1")), [], {}))
    writer.launch(WriteJob(render(start_batch("p-1")), [], {}))  # clashes
    writer.launch(WriteJob(render(start_batch("p-2")), [], {}))  # decided on top of it
    writer.launch(WriteJob(render(start_batch("p-3")), [], {}, epoch=1))
    writer.land()
    with pytest.raises(ConcurrencyConflict):
        writer.land()
    with pytest.raises(Skipped):
        writer.land()
    writer.land()
    assert versions(store, "p-1", "p-2", "p-3") == {"p-1": 1, "p-3": 1}


def test_an_unexpected_error_in_the_child_comes_back_with_its_traceback(
    store: SqlStore,
) -> None:
    writer = ProcessWriter(store)
    try:
        broken = render(start_batch("p-1"))
        broken.events[0] = broken.events[0][:3]  # a row missing most of its columns
        writer.launch(WriteJob(broken, [], {}))
        with pytest.raises(WriterFailed, match="Traceback"):
            writer.land()
        # The child goes on with the jobs of the next epoch.
        writer.launch(WriteJob(render(start_batch("p-2")), [], {}, epoch=1))
        writer.land()
    finally:
        writer.close()
    assert versions(store, "p-1", "p-2") == {"p-2": 1}


def test_a_child_that_dies_is_reported(store: SqlStore) -> None:
    writer = ProcessWriter(store)
    try:
        writer._process.kill()
        writer._process.wait()
        with pytest.raises(WriterFailed, match="stopped"):
            writer.launch(WriteJob(render(start_batch("p-1")), [], {}))
            writer.land()
    finally:
        writer.close()


def test_close_waits_for_the_job_in_flight(store: SqlStore) -> None:
    writer = ProcessWriter(store)
    writer.launch(WriteJob(render(start_batch("p-1")), [], {}))
    writer.close()
    assert versions(store, "p-1") == {"p-1": 1}
    assert writer._process.returncode == 0


@pytest.mark.parametrize(
    "error",
    [
        Skipped("an earlier batch was not written"),
        StaleCorrelation("a key changed hands"),
        ConcurrencyConflict("version 2 of p-1 is already stored"),
        KeyConflict(("mobile_port_in", "msisdn", "600"), "p-1"),
        KeyConflict(("mobile_port_in", "msisdn", "600")),
        StoreUnavailable("attempt to write a readonly database"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_every_refusal_crosses_the_pipe_as_it_was_raised(error: Exception) -> None:
    answer = pickle.loads(pickle.dumps(answer_for(error)))
    with pytest.raises(type(error)) as raised:
        raise_for(answer)
    assert str(raised.value) == str(error)
    if isinstance(error, KeyConflict):
        assert isinstance(raised.value, KeyConflict)
        assert (raised.value.key, raised.value.holder) == (error.key, error.holder)


def test_the_test_commit_delay_reaches_the_child(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COMMIT_DELAY_VARIABLE, "0.3")
    writer = ProcessWriter(store)
    try:
        writer.launch(WriteJob(render(start_batch("p-1")), [], {}))
        writer.land()  # the child is up
        started = time.perf_counter()
        writer.launch(WriteJob(render(start_batch("p-2")), [], {}))
        writer.land()
        assert time.perf_counter() - started >= 0.3
    finally:
        writer.close()
    assert versions(store, "p-1", "p-2") == {"p-1": 1, "p-2": 1}
