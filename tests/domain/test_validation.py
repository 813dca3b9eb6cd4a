"""Reading definitions: every mistake is reported with its file, line and a useful message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from relevo.domain import validation
from relevo.domain.compiled import compile_definition
from relevo.domain.definitions import Definition
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.operator_terms import parse_terms

CATALOG = Path(__file__).resolve().parents[2] / "src" / "relevo" / "catalog"
SHIPPED = sorted(CATALOG.glob("*.yaml"))
PORT_IN = (CATALOG / "mobile_port_in.v1.yaml").read_text(encoding="utf-8")
FILENAME = "catalog/broken.v1.yaml"


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (fails if it is not unique)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of ``text`` that contains ``needle``."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, f"{needle!r} is on lines {lines}"
    return lines[0]


def transition_index(text: str, event_type: str, stage: str | None = None) -> int:
    """Position of the first transition on ``event_type`` (from ``stage`` when given)."""
    document = yaml.load(text, Loader=validation.DefinitionLoader)
    for index, transition in enumerate(document["transitions"]):
        ons = transition["on"] if isinstance(transition["on"], list) else [transition["on"]]
        froms = transition["from"] if isinstance(transition["from"], list) else [transition["from"]]
        if event_type in ons and (stage is None or stage in froms):
            return index
    raise AssertionError(f"no transition on {event_type}")


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(DefinitionError) as error:
        validation.parse(text, FILENAME)
    assert all(problem.file == FILENAME for problem in error.value.problems)
    return error.value.problems


def only(problems: list[Problem], path: str) -> Problem:
    found = [p for p in problems if p.path == path]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_catalog_parses_with_no_problems(path: Path) -> None:
    definition = validation.parse(path.read_text(encoding="utf-8"), path.name)
    assert validation.check(definition) == []
    assert path.name.startswith(f"{definition.kind}.v{definition.version}.")
    # Compiled with the shipped operator's terms: a definition may name their commitments.
    terms = parse_terms((CATALOG / "operator.toml").read_text(encoding="utf-8"), "operator.toml")
    compiled = compile_definition(definition, terms)
    assert set(compiled.stages) == {stage.id for stage in definition.stages}


def test_catalog_is_not_empty() -> None:
    assert any(path.name == "mobile_port_in.v1.yaml" for path in SHIPPED)


def test_unknown_stage_in_a_transition_names_file_line_and_known_stages() -> None:
    text = edit(
        PORT_IN,
        "    from: donor_check\n    to: scheduled\n",
        "    from: donor_check\n    to: schedulled\n",
    )
    problems = problems_of(text)
    problem = only(problems, "transitions.2.to")
    assert problem.line == line_of(text, "to: schedulled")
    assert "unknown stage 'schedulled'" in problem.message
    assert "'scheduled'" in problem.message  # the known stages are listed
    assert str(problem).startswith(f"{FILENAME}:{problem.line}: transitions.2.to: ")


def test_unknown_stage_in_a_from_list() -> None:
    text = edit(
        PORT_IN,
        "  - on: port.failed\n    from: [scheduled, porting]\n",
        "  - on: port.failed\n    from: [scheduled, portin]\n",
    )
    problem = only(
        problems_of(text), f"transitions.{transition_index(PORT_IN, 'port.failed')}.from"
    )
    assert problem.line == line_of(text, "from: [scheduled, portin]")
    assert "unknown stage 'portin'" in problem.message


def test_unreachable_stage_is_reported_on_its_own_line() -> None:
    text = edit(
        PORT_IN,
        "    from: [scheduled, porting]\n    to: active\n",
        "    from: [scheduled, porting]\n",
    )
    problems = problems_of(text)
    assert len(problems) == 1
    problem = only(problems, "stages.4")
    assert problem.line == line_of(text, "- id: active")
    assert problem.message == "stage 'active' can never be reached from 'requested'"


def test_missing_english_text_is_a_schema_error_with_its_line() -> None:
    text = edit(
        PORT_IN,
        "    title: {es: Cambio programado, en: Switch scheduled}",
        "    title: {es: Cambio programado}",
    )
    problem = only(problems_of(text), "stages.2.title.en")
    assert problem.line == line_of(text, "{es: Cambio programado}")
    assert problem.message == "Field required"


def test_empty_text_is_refused() -> None:
    text = edit(
        PORT_IN,
        "    title: {es: Cambio programado, en: Switch scheduled}",
        '    title: {es: Cambio programado, en: ""}',
    )
    problem = only(problems_of(text), "stages.2.title.en")
    assert "at least 1 character" in problem.message


def test_control_without_cut_off_points_at_the_control() -> None:
    text = edit(PORT_IN, "    until: cancel_until          #", "    #")
    problem = only(problems_of(text), "controls.cancel")
    assert problem.line == line_of(text, "  cancel:")
    assert "control without a cut-off" in problem.message
    assert "no_cutoff" in problem.message


def test_control_with_an_unknown_cut_off_date() -> None:
    text = edit(PORT_IN, "    until: cancel_until          #", "    until: cancel_by   #")
    problem = only(problems_of(text), "controls.cancel.until")
    assert problem.line == line_of(text, "until: cancel_by")
    assert "unknown date 'cancel_by'" in problem.message


def test_unknown_date_in_a_rule_lists_the_known_dates() -> None:
    text = edit(
        PORT_IN,
        'rule: "switch_window - 1 working_day at 14:00"',
        'rule: "switch_windw - 1 working_day at 14:00"',
    )
    problem = only(problems_of(text), "dates.cancel_until.rule")
    assert problem.line == line_of(text, "switch_windw - 1 working_day")
    assert "unknown date in rule 'switch_windw'" in problem.message
    assert "'switch_window'" in problem.message


def test_unknown_date_in_a_timer_rule() -> None:
    text = edit(PORT_IN, '    at: "activation_deadline"\n', '    at: "activation_dedline"\n')
    problem = only(problems_of(text), "timers.1.at")
    assert problem.line == line_of(text, '"activation_dedline"')
    assert "unknown date in rule 'activation_dedline'" in problem.message


def test_malformed_rule_is_a_schema_error_with_the_rule_message() -> None:
    text = edit(
        PORT_IN,
        'rule: "switch_window - 1 working_day at 14:00"',
        'rule: "switch_window - 1 fortnight at 14:00"',
    )
    problem = only(problems_of(text), "dates.cancel_until.rule")
    assert problem.line == line_of(text, "1 fortnight")
    assert "invalid duration '1 fortnight'" in problem.message
    assert "working_day" in problem.message


def test_a_topic_emitted_twice_by_one_step_is_refused() -> None:
    # Receivers deduplicate on process, version and topic: the second copy would vanish.
    text = edit(
        PORT_IN,
        "emit: [port.cancel_requested]",
        "emit: [port.cancel_requested, port.cancel_requested]",
    )
    (problem,) = [p for p in problems_of(text) if p.path.endswith(".emit")]
    assert problem.line == line_of(text, "emit: [port.cancel_requested, port.cancel_requested]")
    assert "port.cancel_requested more than once" in problem.message


def test_placeholder_naming_no_date() -> None:
    text = edit(
        PORT_IN,
        "pasa a nosotros el {switch_window}, entre las {switch_window.time} y las "
        '{switch_window.end_time}."\n      en: "We have',
        "pasa a nosotros el {switch_windo}, entre las {switch_window.time} y las "
        '{switch_window.end_time}."\n      en: "We have',
    )
    problems = problems_of(text)
    problem = only(problems, "stages.0.headline.es")
    assert problem.line == line_of(text, "{switch_windo}")
    assert problem.message == "placeholder {switch_windo} names no date"
    mismatch = only(problems, "stages.0.headline")
    assert "es and en use different placeholders" in mismatch.message


def test_placeholder_in_an_incident_headline_is_checked() -> None:
    text = edit(
        PORT_IN,
        '"Necesitamos que revises tu DNI o NIE para seguir con el cambio.", en: "We need',
        '"Necesitamos que revises tu DNI antes del {cancel_untl}.", en: "We need',
    )
    problem = only(problems_of(text), "incidents.RECH_IDENT.headline.es")
    assert problem.message == "placeholder {cancel_untl} names no date"
    assert problem.line == line_of(text, "{cancel_untl}")


def test_placeholder_in_the_compensation_explanation_is_checked() -> None:
    text = edit(PORT_IN, "desde el {activation_deadline} te", "desde el {activation} te")
    problems = problems_of(text)
    problem = only(problems, "compensation.port_delay.explanation.es")
    assert problem.message == "placeholder {activation} names no date"


def test_undeclared_event_type() -> None:
    text = edit(PORT_IN, "  - on: sim.activated\n", "  - on: sim.actived\n")
    problem = only(
        problems_of(text), f"transitions.{transition_index(PORT_IN, 'sim.activated')}.on"
    )
    assert problem.line == line_of(text, "on: sim.actived")
    assert problem.message == "event type 'sim.actived' is not declared under events"


def test_undeclared_event_type_in_a_notification() -> None:
    text = edit(PORT_IN, "    on: port.executed\n    text:", "    on: port.done\n    text:")
    problem = only(problems_of(text), "notifications.5.on")
    assert problem.line == line_of(text, "on: port.done")
    assert "'port.done' is not declared" in problem.message


def test_unknown_incident_option_and_requirement() -> None:
    text = edit(
        PORT_IN,
        "    options: [send_id_document, correct_id, cancel]\n    requires: [id_document]",
        "    options: [send_id_document, fix_id, cancel]\n    requires: [id_doc]",
    )
    problems = problems_of(text)
    assert only(problems, "incidents.RECH_IDENT.options").message == (
        "option 'fix_id' is not a control"
    )
    assert only(problems, "incidents.RECH_IDENT.requires").message == (
        "unknown requirement 'id_doc'"
    )


def test_unknown_field_is_refused_so_typos_do_not_pass() -> None:
    text = edit(
        PORT_IN,
        "    irreversible: true\n    status: cancelled\n    resolve",
        ("    irreversable: true\n    status: cancelled\n    resolve"),
    )
    problem = only(problems_of(text), "controls.cancel.irreversable")
    assert problem.line == line_of(text, "irreversable: true")
    assert "Extra inputs are not permitted" in problem.message


def test_yaml_syntax_error_gives_the_line() -> None:
    text = edit(PORT_IN, "version: 1\n", "version: 1\n  broken: [\n")
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].line == line_of(text, "broken: [")
    assert problems[0].message.startswith("not valid YAML:")


def test_unclosed_flow_mapping_is_a_yaml_error() -> None:
    text = edit(
        PORT_IN,
        "    title: {es: Cambio programado, en: Switch scheduled}",
        "    title: {es: Cambio programado, en: Switch scheduled",
    )
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].message.startswith("not valid YAML:")
    assert problems[0].line is not None


def test_a_definition_must_be_a_mapping() -> None:
    problems = problems_of("- just\n- a list\n")
    assert [(p.line, p.message) for p in problems] == [(1, "a definition must be a YAML mapping")]


def test_every_problem_is_reported_at_once() -> None:
    text = edit(PORT_IN, "  - on: sim.activated\n", "  - on: sim.actived\n")
    text = edit(text, "    until: cancel_until          #", "    #")
    paths = {p.path for p in problems_of(text)}
    index = transition_index(PORT_IN, "sim.activated")
    assert {f"transitions.{index}.on", "controls.cancel"} <= paths


def test_on_stays_a_string_key_and_only_true_false_are_booleans() -> None:
    loaded = yaml.load("on: x\nflag: yes\nother: off\nreal: true\n", validation.DefinitionLoader)
    assert loaded == {"on": "x", "flag": "yes", "other": "off", "real": True}
    definition = validation.parse(PORT_IN, "mobile_port_in.v1.yaml")
    assert definition.transitions[0].on == ["nc.accepted"]


def test_an_empty_closed_list_of_values_is_reported() -> None:
    text = edit(
        PORT_IN,
        '(AREC + code)", requires: [code]}',
        '(AREC + code)", requires: [code], values: {code: []}}',
    )
    problem = only(problems_of(text), "events.nc.rejected.values.code")
    assert "empty closed list" in problem.message


def test_date_rule_cycle_is_reported() -> None:
    text = edit(
        PORT_IN,
        '    rule: "started + 30 days"\n',
        '    rule: "latest_window + 30 days"\n',
    )
    problem = only(problems_of(text), "dates")
    assert "date rules form a cycle: latest_window -> latest_window" in problem.message


def test_json_schema_describes_the_definition_language() -> None:
    schema = Definition.model_json_schema()
    encoded = json.dumps(schema)  # plain JSON, publishable as is
    assert set(schema["required"]) >= {"kind", "version", "calendar", "stages", "outcomes"}
    assert schema["additionalProperties"] is False
    transition = schema["$defs"]["Transition"]
    assert {"on", "from"} <= set(transition["required"])  # written by alias, as in YAML
    assert "from_" not in transition["properties"]
    localized = schema["$defs"]["Localized"]
    assert set(localized["required"]) == {"es", "en"}
    assert localized["properties"]["es"]["minLength"] == 1

    def refs(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if "$ref" in node else set()
            return found.union(*(refs(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(value) for value in node))
        return set()

    targets = {ref.removeprefix("#/$defs/") for ref in refs(schema)}
    assert targets <= set(schema["$defs"]), targets - set(schema["$defs"])
    assert "Stage" in encoded and "Control" in targets


def test_parsed_catalog_round_trips_through_the_schema_model() -> None:
    definition = validation.parse(PORT_IN, "mobile_port_in.v1.yaml")
    dumped = definition.model_dump(mode="json", by_alias=True, exclude_unset=True)
    again = Definition.model_validate(dumped)
    assert again == definition


def test_a_code_on_a_task_without_codes_names_file_and_line() -> None:
    text = edit(
        PORT_IN,
        "    open_incident_from: data.code\n    open_tasks: [resubmit_request]\n",
        "    open_incident_from: data.code\n    open_tasks: [resubmit_request]\n"
        "    code_task: {resubmit_request: data.code}\n",
    )
    problems = problems_of(text)
    problem = next(p for p in problems if p.path.endswith("code_task"))
    assert problem.line == line_of(text, "code_task:")
    assert "'resubmit_request' is not a task with codes" in problem.message
