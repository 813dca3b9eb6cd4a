"""The definitions language's newer constructs are checked like the rest: every mistake in
conditional effects and parameters, earliest/latest dates, guards on dates, incidents and
tasks, and keys with several values is reported with its file, line and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from relevo.domain import validation
from relevo.domain.errors import DefinitionError, Problem

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "definitions" / "two_line_port.v1.yaml"
TEXT = FIXTURE.read_text(encoding="utf-8")
FILENAME = "catalog/two_line_port.v1.yaml"


def edit(old: str, new: str) -> str:
    """The fixture with the one occurrence of ``old`` replaced (fails if it is not unique)."""
    assert TEXT.count(old) == 1, f"{old!r} occurs {TEXT.count(old)} times"
    return TEXT.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` that contains ``needle``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


def the_problem(text: str) -> Problem:
    with pytest.raises(DefinitionError) as error:
        validation.parse(text, FILENAME)
    problems = error.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    assert problems[0].file == FILENAME
    return problems[0]


def test_the_fixture_is_a_valid_definition() -> None:
    definition = validation.parse(TEXT, FIXTURE.name)
    assert validation.check(definition) == []


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            'rule: "earliest(switch_window - 1 working_day at 14:00, contract_end)"',
            'rule: "earliest(switch_window - 1 working_day at 14:00)"',
            "earliest(switch_window - 1 working_day at 14:00)",
            "takes two or more dates",
        ),
        (
            'rule: "latest(switch_window + 5 working_days, started + 10 days)"',
            'rule: "latest(switch_window + 5 working_days, started + 10 dayz)"',
            "started + 10 dayz",
            "invalid duration '10 dayz'",
        ),
        (
            'rule: "latest(switch_window + 5 working_days, started + 10 days)"',
            'rule: "latest(switch_window + 5 working_days, signed + 10 days)"',
            "signed + 10 days",
            "unknown date in rule 'signed'",
        ),
    ],
)
def test_earliest_and_latest_mistakes_name_their_line(
    old: str, new: str, needle: str, message: str
) -> None:
    text = edit(old, new)
    problem = the_problem(text)
    assert problem.line == line_of(text, needle)
    assert message in problem.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "message"),
    [
        (
            "when: {incidents.NO_SIM: {not_equals: open}}",
            "when: {incidents.NO_SIMS: {not_equals: open}}",
            "incidents.NO_SIMS",
            "transitions.2.when.incidents.NO_SIMS",
            "unknown incident 'NO_SIMS'",
        ),
        (
            'when: {dates.switch_window: {before: "now + 8 days"}}',
            'when: {dates.switch_windw: {before: "now + 8 days"}}',
            "dates.switch_windw",
            "transitions.4.when.dates.switch_windw",
            "unknown date 'switch_windw'",
        ),
        (
            'when: {dates.switch_window: {before: "now + 8 days"}}',
            'when: {dates.switch_window: {before: "sim_eta + 3 days"}}',
            "sim_eta + 3 days",
            "transitions.4.when.dates.switch_window.before",
            "unknown date in rule 'sim_eta'",
        ),
        (
            "when: {tasks.sim_delivery: {not_in: [done]}}",
            "when: {tasks.sim_deliveries: {not_in: [done]}}",
            "tasks.sim_deliveries",
            "controls.cancel.when.tasks.sim_deliveries",
            "unknown task 'sim_deliveries'",
        ),
        (
            "    when: {tasks.sim_delivery: open}\n    text:",
            "    when: {tasks.sim: open}\n    text:",
            "tasks.sim: open",
            "notifications.2.when.tasks.sim",
            "unknown task 'sim'",
        ),
        (
            "        when: {incidents.NO_SIM: open}\n      - within: 1 working_day",
            "        when: {incidents.NO_CARD: open}\n      - within: 1 working_day",
            "incidents.NO_CARD",
            "stages.0.sla.0.when.incidents.NO_CARD",
            "unknown incident 'NO_CARD'",
        ),
    ],
)
def test_guards_name_known_dates_incidents_and_tasks(
    old: str, new: str, needle: str, path: str, message: str
) -> None:
    text = edit(old, new)
    problem = the_problem(text)
    assert (problem.path, problem.line) == (path, line_of(text, needle))
    assert message in problem.message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "when: {tasks.sim_delivery: {not_in: [done]}}",
            "when: {task.sim_delivery: {not_in: [done]}}",
            "'task.sim_delivery' is not a guard path",
        ),
        (
            "when: {tasks.sim_delivery: {not_in: [done]}}",
            "when: {tasks.sim_delivery: {before: now}}",
            "compare a process date",
        ),
        (
            "when: {tasks.sim_delivery: {not_in: [done]}}",
            "when: {dates.switch_window: {after: now plus 1 day}}",
            "could not read 'plus 1 day'",
        ),
    ],
)
def test_malformed_guards_are_schema_errors_on_their_line(old: str, new: str, message: str) -> None:
    text = edit(old, new)
    problem = the_problem(text)
    assert problem.path == "controls.cancel.when"
    assert problem.line == line_of(text, new)
    assert message in problem.message


def test_a_conditional_block_cannot_move_the_process() -> None:
    text = edit(
        "      - when: {data.cause: technical}\n        notify: [cancelled_technical]",
        "      - when: {data.cause: technical}\n        notify: [cancelled_technical]\n"
        "        to: requested",
    )
    problem = the_problem(text)
    assert problem.path == "transitions.7.also.0"
    assert problem.line == line_of(text, "- when: {data.cause: technical}")
    assert "cannot set to" in problem.message
    assert "second transition" in problem.message


def test_a_conditional_block_names_known_templates_and_guards() -> None:
    text = edit("        notify: [cancelled_technical]", "        notify: [cancelled_tech]")
    problem = the_problem(text)
    assert problem.path == "transitions.7.also.0.notify"
    assert problem.line == line_of(text, "notify: [cancelled_tech]")
    assert "unknown notification template 'cancelled_tech'" in problem.message

    text = edit("      - when: {data.cause: technical}", "      - when: {incidents.TECH: open}")
    problem = the_problem(text)
    assert problem.path == "transitions.7.also.0.when.incidents.TECH"
    assert problem.line == line_of(text, "incidents.TECH")


def test_param_cases_are_checked_like_params() -> None:
    text = edit(
        'max: "latest(latest_postponement, switch_window + 15 days)"',
        'max: "latest(latest_postponement, switch + 15 days)"',
    )
    problem = the_problem(text)
    assert problem.path == "controls.postpone.params.new_date.cases.0.max"
    assert problem.line == line_of(text, "switch + 15 days")
    assert "unknown date in rule 'switch'" in problem.message

    text = edit(
        "          - when: {params.reason: other}", "          - when: {param.reason: other}"
    )
    problem = the_problem(text)
    assert problem.path == "controls.postpone.params.detail.cases.0.when"
    assert problem.line == line_of(text, "param.reason")
    assert "not a guard path" in problem.message


def test_keys_with_several_values_take_value_paths() -> None:
    text = edit("msisdn: [data.msisdn, data.second_msisdn]", "msisdn: [data.msisdn, second_msisdn]")
    problem = the_problem(text)
    assert problem.path == "transitions.0.keys"
    assert problem.line == line_of(text, "  - on: nc.accepted") + 3  # its "keys:"
    assert "'second_msisdn' is not a value path" in problem.message

    text = edit("msisdn: [data.msisdn, data.second_msisdn]", "msisdn: []")
    problem = the_problem(text)
    assert "needs at least one value path" in problem.message

    text = edit("msisdn: [data.msisdn, data.second_msisdn]", "imei: [data.imei]")
    problem = the_problem(text)
    assert problem.path == "transitions.0.keys"
    assert "'imei' is not one of the correlation_keys" in problem.message
