"""Numeric comparisons in guards (``less_than``, ``at_most``, ``more_than``, ``at_least``):
what counts as a number, how they evaluate, what a side that is not a number does at run
time, and the load-time errors with their file and line."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from relevo.domain import validation
from relevo.domain.compiled import compile_definition
from relevo.domain.guards import guard_holds, unreadable_numbers
from relevo.domain.numbers import read_number
from scenarios.helpers import Run, ignored_reason, madrid

from .test_language_checks import FIXTURE, edit, line_of, the_problem

C = compile_definition(validation.parse(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name))
NOW = madrid(2026, 3, 2, 10, 0)
RUN = Run.start(C, NOW, attributes={"modality": "postpaid", "contract_end": "2027-01-31"})
STATE = RUN.state


def holds(guard: dict[str, Any], data: dict[str, Any]) -> bool:
    return guard_holds(C, guard, STATE, NOW, data)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (12, Decimal(12)),
        (-3, Decimal(-3)),
        (48.3, Decimal("48.3")),
        ("48.30", Decimal("48.30")),
        ("+7", Decimal(7)),
        ("0", Decimal(0)),
    ],
)
def test_numbers_are_json_numbers_or_decimal_text_with_a_point(value: Any, number: Decimal) -> None:
    assert read_number(value) == number


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        " 12",
        "12 €",
        "48,30",
        "1e3",
        "NaN",
        "Infinity",
        ".5",
        "5.",
        True,
        False,
        [1],
        {"a": 1},
        float("nan"),
        float("inf"),
    ],
)
def test_anything_else_is_not_a_number(value: Any) -> None:
    assert read_number(value) is None


@pytest.mark.parametrize(
    ("amount", "less_than", "at_most", "more_than", "at_least"),
    [
        ("9.50", True, True, False, False),
        ("12.00", False, True, False, True),
        ("12", False, True, False, True),
        (12, False, True, False, True),
        ("12.01", False, False, True, True),
        (12.5, False, False, True, True),
    ],
)
def test_each_comparison_against_another_field(
    amount: Any, less_than: bool, at_most: bool, more_than: bool, at_least: bool
) -> None:
    data = {"amount": amount, "cap": "12.00"}
    assert holds({"data.amount": {"less_than": "data.cap"}}, data) is less_than
    assert holds({"data.amount": {"at_most": "data.cap"}}, data) is at_most
    assert holds({"data.amount": {"more_than": "data.cap"}}, data) is more_than
    assert holds({"data.amount": {"at_least": "data.cap"}}, data) is at_least


def test_comparisons_with_a_literal_and_a_range() -> None:
    guard = {"data.months": {"more_than": 0, "at_most": 24}}
    assert [holds(guard, {"months": m}) for m in (0, 1, "24", 24.5, 36)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    # A float and decimal text of the same value are equal.
    assert holds({"data.amount": {"at_least": 48.3}}, {"amount": "48.30"})
    # Every entry must hold, as with any guard.
    mixed = {"attributes.modality": "prepaid", "data.months": {"at_most": 24}}
    assert not holds(mixed, {"months": 6})


def test_attributes_compare_too() -> None:
    state = dataclasses.replace(STATE, attributes={**STATE.attributes, "balance": "5.20"})
    assert guard_holds(C, {"attributes.balance": {"less_than": 6}}, state, NOW)
    assert guard_holds(
        C, {"attributes.balance": {"at_least": "data.paid"}}, state, NOW, {"paid": 5}
    )
    assert not guard_holds(C, {"attributes.balance": {"at_least": "data.paid"}}, state, NOW)


@pytest.mark.parametrize(
    ("data", "reasons"),
    [
        ({"cap": "12.00"}, ["data.amount is missing"]),
        ({"amount": "", "cap": "12.00"}, ["data.amount is missing"]),
        ({"amount": "12 €", "cap": "12.00"}, ["data.amount is not a number ('12 €')"]),
        ({"amount": "9,50", "cap": "12.00"}, ["data.amount is not a number ('9,50')"]),
        ({"amount": True, "cap": "12.00"}, ["data.amount is not a number (True)"]),
        ({"amount": "9.50"}, ["data.cap is missing"]),
        (
            {"amount": [9], "cap": None},
            ["data.amount is not a number ([9])", "data.cap is missing"],
        ),
    ],
)
def test_a_side_that_is_not_a_number_fails_every_comparison_with_a_reason(
    data: dict[str, Any], reasons: list[str]
) -> None:
    for test in ("less_than", "at_most", "more_than", "at_least"):
        guard = {"data.amount": {test: "data.cap"}}
        assert holds(guard, data) is False
        assert unreadable_numbers(C, guard, STATE, NOW, data) == reasons


def test_no_reason_when_the_numbers_are_read_or_the_rest_of_the_guard_fails() -> None:
    guard = {"data.amount": {"at_most": "data.cap"}}
    assert unreadable_numbers(C, guard, STATE, NOW, {"amount": "13", "cap": "12"}) == []
    other_modality = {"attributes.modality": "prepaid", "data.amount": {"at_most": 5}}
    assert unreadable_numbers(C, other_modality, STATE, NOW, {"amount": "x"}) == []


def test_an_ignored_message_says_which_number_it_could_not_read() -> None:
    text = edit(
        "      - when: {data.cause: technical}\n        notify: [cancelled_technical]",
        "      - when: {data.cause: technical}\n        notify: [cancelled_technical]\n"
        "  - on: sim.eta\n"
        "    from: [requested]\n"
        "    when: {data.days: {at_most: 3}}\n"
        "    label: {es: La SIM llega pronto, en: The SIM arrives soon}",
    ).replace(
        'sim.late: {description: "The SIM will not arrive before the window"}',
        'sim.late: {description: "The SIM will not arrive before the window"}\n'
        '  sim.eta: {description: "The courier says in how many days", optional: [days]}',
    )
    c = compile_definition(validation.parse(text, FIXTURE.name))
    run = Run.start(c, NOW, attributes={"modality": "postpaid"})
    decision = run.send("sim.eta", {"days": "tres"})
    # Kept on the process as an ignored message, with the reason.
    assert ignored_reason(decision) == "out_of_order"
    assert decision.reason is not None
    assert "does not match any rule in stage 'requested'" in decision.reason
    assert "(data.days is not a number ('tres'))" in decision.reason
    assert run.send("sim.eta", {"days": 2}).reason_code is None
    run.assert_replay_matches()


# -- load-time errors, with file and line ---------------------------------------------------

OLD_GUARD = "      - when: {data.cause: technical}"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            '      - when: {data.cause: {at_most: "3"}}',
            "at_most '3' is neither a number nor a value path: write 3 without quotes",
        ),
        (
            "      - when: {data.cause: {less_than: tres}}",
            "less_than 'tres' is neither a number nor a value path: start it with one of data.",
        ),
        (
            "      - when: {data.cause: {more_than: dates.switch_window}}",
            "is neither a number nor a value path",
        ),
        (
            "      - when: {data.cause: {at_least: true}}",
            "at_least takes a number (12.5) or a value path (data.cap), not True",
        ),
        (
            "      - when: {data.cause: {at_least: [1, 2]}}",
            "at_least takes a number (12.5) or a value path",
        ),
        (
            "      - when: {dates.switch_window: {at_most: 3}}",
            "a dates. path is not a number (dates use 'before'/'after')",
        ),
        (
            "      - when: {incidents.NO_SIM: {more_than: 0}}",
            "a incidents. path is not a number",
        ),
    ],
)
def test_malformed_numeric_comparisons_are_named_on_their_line(new: str, message: str) -> None:
    text = edit(OLD_GUARD, new)
    problem = the_problem(text)
    path, test = new.split("{", 2)[1:]
    assert problem.path == f"transitions.7.also.0.when.{path.strip(': ')}.{test.split(':')[0]}"
    assert problem.line == line_of(text, new.strip())
    assert message in problem.message


@pytest.mark.parametrize(
    ("new", "path", "message"),
    [
        (
            "      - when: {data.amount: {at_most: 10}}",
            "transitions.7.also.0.when.data.amount.at_most",
            "data.amount: unknown data field 'amount'; the event declares ['cause']",
        ),
        (
            "      - when: {data.cause: {at_most: data.cap}}",
            "transitions.7.also.0.when.data.cause.at_most",
            "data.cap: unknown data field 'cap'",
        ),
        (
            "      - when: {attributes.modality: {at_least: 1}}",
            "transitions.7.also.0.when.attributes.modality.at_least",
            "attribute 'modality' only ever holds 'postpaid', 'prepaid', not a number",
        ),
        (
            "      - when: {attributes.balance: {at_least: 1}}",
            "transitions.7.also.0.when.attributes.balance.at_least",
            "unknown attribute 'balance'",
        ),
        (
            "      - when: {params.amount: {at_least: 1}}",
            "transitions.7.also.0.when.params.amount.at_least",
            "there are no parameters here",
        ),
    ],
)
def test_numeric_comparisons_read_fields_that_can_be_numbers(
    new: str, path: str, message: str
) -> None:
    text = edit(OLD_GUARD, new)
    problem = the_problem(text)
    assert (problem.path, problem.line) == (path, line_of(text, new.strip()))
    assert message in problem.message


def test_numbers_in_guards_without_a_message_or_with_parameters() -> None:
    text = edit(
        "      - within: 1 working_day",
        "      - {within: 1 working_day, when: {data.x: {at_most: 1}}}",
    )
    problem = the_problem(text)
    assert problem.path == "stages.0.sla.1.when.data.x.at_most"
    assert "there is no message here" in problem.message

    text = edit(
        "          - when: {params.reason: other}",
        "          - when: {params.new_date: {at_most: 1}}",
    )
    problem = the_problem(text)
    assert problem.path == "controls.postpone.params.detail.cases.0.when.params.new_date.at_most"
    assert problem.line == line_of(text, "params.new_date: {at_most")
    assert "a date parameter is not a number" in problem.message

    text = edit(
        "          - when: {params.reason: other}",
        "          - when: {params.amount: {at_most: 1}}",
    )
    problem = the_problem(text)
    assert "unknown parameter 'amount'; the control has ['detail', 'new_date', 'reason']" in (
        problem.message
    )

    # A text parameter may carry a number (an amount an agent types).
    text = edit(
        "          - when: {params.reason: other}",
        "          - when: {params.detail: {at_most: 1}}",
    )
    assert validation.check(validation.parse(text, FIXTURE.name)) == []
