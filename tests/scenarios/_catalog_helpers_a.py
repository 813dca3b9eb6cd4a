"""Checks shared by the scenario tests of fixed_port_in, energy_switch, move_home and
billing_data_change: what was sent, why an action was refused, and how an incident reads."""

from __future__ import annotations

from typing import Any

import pytest

from relevo.domain.definitions import Definition
from relevo.domain.errors import ActionRefused
from relevo.domain.model import Outcome

from .helpers import Run


def outbox_topics(run: Run) -> list[str]:
    """Every integration topic queued so far, in order."""
    return [m["topic"] for event in run.events for m in event.effects.get("outbox", ())]


def emitted(event: Any) -> list[str]:
    """Integration topics (not notifications) queued by one event."""
    return [
        m["topic"]
        for m in event.effects.get("outbox", ())
        if m["topic"] != "notification.requested"
    ]


def templates_sent(run: Run) -> list[str]:
    """Every notification template requested so far, in order."""
    return [
        m["payload"]["template"]
        for event in run.events
        for m in event.effects.get("outbox", ())
        if m["topic"] == "notification.requested"
    ]


def refusal(run: Run, control: str, params: dict[str, Any] | None = None) -> ActionRefused:
    """The refusal of ``control``; the state must not change."""
    version = run.state.version
    with pytest.raises(ActionRefused) as error:
        run.act(control, params)
    assert run.state.version == version
    return error.value


def problem_codes(error: ActionRefused) -> dict[str, str]:
    """Which parameter failed, and why."""
    return {problem.field: problem.code for problem in error.problems}


def allowed_controls(run: Run) -> set[str]:
    """Controls the status view offers as allowed right now."""
    return {row["id"] for row in run.view()["controls"] if row["allowed"]}


def ignored(run: Run, event_type: str, data: dict[str, Any] | None = None) -> str:
    """Send a message that must be ignored; return the reason code."""
    decision = run.send(event_type, data)
    assert decision.outcome is Outcome.IGNORED, decision.reason
    return decision.reason_code or ""


def assert_incident_view(run: Run, definition: Definition, code: str) -> None:
    """The incident reads in both languages as written, and its options are usable now."""
    incident = definition.incidents[code]
    for lang in ("es", "en"):
        page = run.view(lang)
        row = next(r for r in page["incidents"] if r["code"] == code)
        assert row["status"] == "open"
        for field in ("title", "what_happened", "what_we_do", "what_you_can_do"):
            assert row[field], field
            assert "—" not in row[field], (field, row[field])
        if "{" not in incident.what_happened.get(lang):
            assert row["what_happened"] == incident.what_happened.get(lang)
        assert row["what_we_do"] == incident.what_we_do.get(lang)
        assert row["what_you_can_do"] == incident.what_you_can_do.get(lang)
        assert row["options"] == incident.options
        assert row["owner"] == incident.owner
        assert "—" not in page["headline"], page["headline"]
        if incident.headline is not None and "{" not in incident.headline.get(lang):
            assert page["headline"] == incident.headline.get(lang)
        if incident.owner == "customer":
            assert page["next"]["who"] == "customer"
            assert page["next"]["what"] == incident.what_you_can_do.get(lang)
    assert set(incident.options) <= allowed_controls(run), set(incident.options) - allowed_controls(
        run
    )
    for requirement in incident.requires:
        assert run.state.requirements[requirement]["state"] == "missing"
        needed = {row["id"]: row for row in run.view("en")["needed"]}
        assert needed[requirement]["action_needed"] is True
