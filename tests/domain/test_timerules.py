"""Durations and date rules: parsing, evaluation on a calendar, and clear errors."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from relevo.domain.calendars import get_calendar
from relevo.domain.timerules import DateChoice, DateRule, Duration, RuleError, parse_date_expr

MADRID = ZoneInfo("Europe/Madrid")
CAL = get_calendar("es-portability")


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("1 minute", 1, "minute"),
        ("30 minutes", 30, "minute"),
        ("5 hours", 5, "hour"),
        ("2.5 hours", 2.5, "hour"),
        ("4 working_hours", 4, "working_hour"),
        ("1 day", 1, "day"),
        ("30 days", 30, "day"),
        ("1 working_day", 1, "working_day"),
        ("2 working_days", 2, "working_day"),
        ("3 weeks", 3, "week"),
        ("  2   hours ", 2, "hour"),
    ],
)
def test_duration_parses_amount_and_unit(text: str, amount: float, unit: str) -> None:
    duration = Duration.parse(text)
    assert (duration.amount, duration.unit) == (amount, unit)


def test_duration_writes_itself_back_singular_or_plural() -> None:
    assert str(Duration.parse("1 working_day")) == "1 working_day"
    assert str(Duration.parse("2 working_days")) == "2 working_days"
    assert str(Duration.parse("2.5 hours")) == "2.5 hours"


@pytest.mark.parametrize("text", ["1", "day", "one day", "1 fortnight", "-1 day", "1 Days", ""])
def test_bad_duration_lists_the_accepted_units(text: str) -> None:
    with pytest.raises(RuleError) as error:
        Duration.parse(text)
    message = str(error.value)
    assert f"invalid duration {text!r}" in message
    for unit in ("minute", "hour", "working_hour", "day", "working_day", "week"):
        assert unit in message


def test_working_days_must_be_whole() -> None:
    with pytest.raises(RuleError, match="working days must be whole"):
        Duration.parse("1.5 working_days")


def test_months_are_calendar_months_clamped_to_the_last_day() -> None:
    assert DateRule.parse("started + 1 month").evaluate(
        {"started": madrid(2026, 1, 31, 10, 0)}, get_calendar("es-national")
    ) == madrid(2026, 2, 28, 10, 0)
    assert DateRule.parse("started - 2 months").evaluate(
        {"started": madrid(2026, 3, 15, 10, 0)}, get_calendar("es-national")
    ) == madrid(2026, 1, 15, 10, 0)
    with pytest.raises(RuleError, match="months must be whole"):
        Duration.parse("1.5 months")


def test_calendar_days_keep_the_wall_clock_across_daylight_saving() -> None:
    saturday = madrid(2026, 3, 28, 12, 0)  # clocks go forward that night
    assert Duration.parse("1 day").add_to(saturday, CAL) == madrid(2026, 3, 29, 12, 0)
    assert Duration.parse("24 hours").add_to(saturday, CAL) == madrid(2026, 3, 29, 13, 0)
    assert Duration.parse("1 week").add_to(saturday, CAL) == madrid(2026, 4, 4, 12, 0)


def test_hours_before_a_local_moment_are_elapsed_hours_across_daylight_saving() -> None:
    # Sunday 25 Oct 2026 has 25 hours in Madrid: 5 hours before 04:00 is 00:00, not 23:00.
    rule = DateRule.parse("deadline - 5 hours")
    due = rule.evaluate({"deadline": madrid(2026, 10, 25, 4, 0)}, CAL)
    assert due == madrid(2026, 10, 25, 0, 0)


def test_clock_durations_go_both_ways() -> None:
    moment = madrid(2026, 12, 1, 14, 0)
    assert Duration.parse("5 hours").add_to(moment, CAL, -1) == madrid(2026, 12, 1, 9, 0)
    assert Duration.parse("90 minutes").add_to(moment, CAL) == madrid(2026, 12, 1, 15, 30)
    assert Duration.parse("2 days").add_to(moment, CAL, -1) == madrid(2026, 11, 29, 14, 0)


def test_working_durations_use_the_calendar() -> None:
    friday = madrid(2026, 12, 4, 19, 0)
    assert Duration.parse("1 working_day").add_to(friday, CAL) == madrid(2026, 12, 9, 19, 0)
    assert Duration.parse("1 working_day").add_to(friday, CAL, -1) == madrid(2026, 12, 3, 19, 0)
    assert Duration.parse("2 working_hours").add_to(friday, CAL) == madrid(2026, 12, 9, 9, 0)


def test_working_hours_cannot_be_subtracted() -> None:
    with pytest.raises(RuleError, match="only be added"):
        Duration.parse("2 working_hours").add_to(madrid(2026, 12, 1, 10, 0), CAL, -1)


def test_rule_parses_anchor_terms_and_time_of_day() -> None:
    rule = DateRule.parse("switch_window - 1 working_day at 14:00")
    assert rule.anchor == "switch_window"
    assert rule.terms == ((-1, Duration(1, "working_day")),)
    assert rule.at == time(14, 0)
    assert str(rule) == "switch_window - 1 working_day at 14:00"

    several = DateRule.parse("requested + 1 day - 2 hours at 9:05")
    assert several.anchor == "requested"
    assert several.terms == ((1, Duration(1, "day")), (-1, Duration(2, "hour")))
    assert several.at == time(9, 5)

    bare = DateRule.parse("latest_window")
    assert (bare.anchor, bare.terms, bare.at) == ("latest_window", (), None)


def test_cancel_until_rule_is_14_00_of_the_working_day_before() -> None:
    rule = DateRule.parse("switch_window - 1 working_day at 14:00")
    wednesday_window = madrid(2026, 12, 2, 2, 0)
    assert rule.evaluate({"switch_window": wednesday_window}, CAL) == madrid(2026, 12, 1, 14, 0)
    # A window on Wednesday 9 Dec 2026 follows Monday 7 and Tuesday 8 (holidays) and a weekend.
    after_holidays = madrid(2026, 12, 9, 2, 0)
    assert rule.evaluate({"switch_window": after_holidays}, CAL) == madrid(2026, 12, 4, 14, 0)


def test_rule_time_of_day_is_local_to_the_calendar() -> None:
    rule = DateRule.parse("started + 2 working_days at 02:00")
    started_utc = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("UTC"))
    due = rule.evaluate({"started": started_utc}, CAL)
    assert due == madrid(2026, 12, 2, 2, 0)
    canary = get_calendar("es-cn")
    due_canary = rule.evaluate({"started": started_utc}, canary)
    assert due_canary == datetime(2026, 12, 2, 2, 0, tzinfo=ZoneInfo("Atlantic/Canary"))
    assert due is not None and due_canary is not None
    assert (due_canary - due).total_seconds() == 3600


def test_rule_with_an_unknown_anchor_value_evaluates_to_none() -> None:
    rule = DateRule.parse("switch_window - 1 working_day at 14:00")
    assert rule.evaluate({}, CAL) is None
    assert rule.evaluate({"switch_window": None}, CAL) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "start with a date name, 'started', 'entered' or 'now'"),
        ("+ 1 day", "start with a date name"),
        ("Switch_window + 1 day", "start with a date name"),
        ("switch_window plus 1 day", "could not read 'plus 1 day'"),
        ("switch_window + 1 day garbage", "could not read 'garbage'"),
        ("switch_window + day", "could not read '+ day'"),
        ("switch_window + 1 fortnight", "invalid duration '1 fortnight'"),
        ("switch_window + 1.5 working_days", "working days must be whole"),
        ("switch_window at 25:00", "invalid time of day"),
        ("switch_window at 10:75", "invalid time of day"),
        ("switch_window - 2 working_hours", "working hours can only be added"),
    ],
)
def test_bad_rule_says_what_is_expected(text: str, expected: str) -> None:
    with pytest.raises(RuleError) as error:
        DateRule.parse(text)
    assert expected in str(error.value)


def test_earliest_and_latest_pick_among_their_operands() -> None:
    expression = parse_date_expr("earliest(switch_window - 1 working_day at 14:00, contract_end)")
    assert isinstance(expression, DateChoice)
    assert expression.anchors == {"switch_window", "contract_end"}
    window = madrid(2026, 12, 2, 2, 0)
    assert expression.evaluate(
        {"switch_window": window, "contract_end": madrid(2026, 12, 31)}, CAL
    ) == madrid(2026, 12, 1, 14, 0)
    assert expression.evaluate(
        {"switch_window": window, "contract_end": madrid(2026, 11, 20)}, CAL
    ) == madrid(2026, 11, 20)
    later = parse_date_expr("latest(now + 1 working_day, requested + 2 days)")
    now = madrid(2026, 12, 4, 10, 0)  # Friday; the next working day is Wednesday 9
    assert later.evaluate({"now": now, "requested": now}, CAL) == madrid(2026, 12, 9, 10, 0)


def test_earliest_skips_operands_not_known_yet() -> None:
    expression = parse_date_expr("earliest(a, b + 1 day)")
    assert expression.evaluate({"a": None, "b": madrid(2026, 12, 1)}, CAL) == madrid(2026, 12, 2)
    assert expression.evaluate({}, CAL) is None


def test_earliest_and_latest_nest() -> None:
    expression = parse_date_expr("latest(a, earliest(b, c))")
    assert expression.anchors == {"a", "b", "c"}
    moments = {"a": madrid(2026, 12, 1), "b": madrid(2026, 12, 10), "c": madrid(2026, 12, 5)}
    assert expression.evaluate(moments, CAL) == madrid(2026, 12, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("earliest(a)", "takes two or more dates"),
        ("latest(a, )", "an operand is empty"),
        ("earliest(a, (b)", "parentheses do not match"),
        ("earliest(a, b) + 1 day", "must be the whole expression"),
        ("latest(a, b + 1 fortnight)", "invalid duration '1 fortnight'"),
    ],
)
def test_bad_earliest_or_latest_says_what_is_expected(text: str, expected: str) -> None:
    with pytest.raises(RuleError) as error:
        parse_date_expr(text)
    assert expected in str(error.value)


# -- the operator's commitments named in a number's place -----------------------------------

COMMITMENTS = {"correction": Duration(10, "working_day")}


def test_a_commitment_takes_its_amount_from_the_operators_terms() -> None:
    rule = DateRule.parse("now + commitments.correction working_days at 23:59", COMMITMENTS)
    plain = DateRule.parse("now + 10 working_days at 23:59")
    start = madrid(2026, 12, 3, 10, 0)
    assert rule.evaluate({"now": start}, CAL) == plain.evaluate({"now": start}, CAL)


def test_a_commitment_parsed_without_the_terms_has_only_its_shape_checked() -> None:
    duration = Duration.parse("commitments.correction working_days")
    assert (duration.commitment, duration.resolved) == ("correction", False)
    with pytest.raises(RuleError, match="compile the definition with the operator's terms"):
        duration.add_to(madrid(2026, 12, 3), CAL)


def test_an_unknown_commitment_or_another_unit_is_refused() -> None:
    with pytest.raises(RuleError, match="'refund' is not in the operator's terms"):
        parse_date_expr("now + commitments.refund working_days", COMMITMENTS)
    with pytest.raises(RuleError, match="counts it in days"):
        Duration.parse("commitments.correction days", COMMITMENTS)
