"""Scenario driver for the billing, service-request, offboarding and onboarding definitions.

The driver is ``helpers.Run`` (re-exported here); this module adds the assertion helpers
for incidents, refusals and outbox contents these four definitions share.
"""

from __future__ import annotations

from typing import Any

import pytest

from relevo.domain import engine
from relevo.domain.engine import Decision
from relevo.domain.errors import ActionRefused
from relevo.domain.model import Event, Outcome

from .helpers import CATALOG, MADRID, Run, accepted, load, madrid

__all__ = ["CATALOG", "MADRID", "Run", "accepted", "load", "madrid"]


def ignored(decision: Decision) -> str:
    """The reason code of an ignored message (recorded on the process as a fact)."""
    assert decision.outcome is Outcome.IGNORED, (decision.outcome, decision.reason)
    assert [e.type for e in decision.events] == [engine.IGNORED]
    return decision.reason_code or ""


def topics(event: Event) -> list[str]:
    """The integration topics an event sends (notifications excluded)."""
    return [
        m["topic"]
        for m in event.effects.get("outbox", ())
        if m["topic"] != "notification.requested"
    ]


def templates(event: Event) -> list[str]:
    """The notification templates an event sends."""
    return [
        m["payload"]["template"]
        for m in event.effects.get("outbox", ())
        if m["topic"] == "notification.requested"
    ]


def all_topics(run: Run) -> list[str]:
    """Every integration topic the run sent, in order."""
    return [topic for event in run.events for topic in topics(event)]


def all_templates(run: Run) -> list[str]:
    """Every notification template the run sent, in order."""
    return [template for event in run.events for template in templates(event)]


def refusal(
    run: Run, control: str, params: dict[str, Any] | None = None, *, role: str = "customer"
) -> ActionRefused:
    """The refusal of a control, checking that the state did not change."""
    before = run.state.to_json()
    with pytest.raises(ActionRefused) as error:
        run.act(control, params, role=role)
    assert run.state.to_json() == before
    return error.value


def problem_codes(error: ActionRefused) -> dict[str, str]:
    """``{param: problem code}`` of an invalid_params refusal."""
    assert error.code == "invalid_params"
    return {problem.field: problem.code for problem in error.problems}


def allowed_controls(run: Run, role: str = "customer") -> set[str]:
    """The controls the view offers as allowed right now."""
    return {row["id"] for row in run.view("es", role)["controls"] if row["allowed"]}


def assert_incident_view(run: Run, code: str) -> None:
    """The open incident shows its three texts in both languages, and its options work."""
    incident = run.c.definition.incidents[code]
    for lang in ("es", "en"):
        page = run.view(lang)
        row = next(r for r in page["incidents"] if r["code"] == code)
        assert row["status"] == "open"
        for name in ("title", "what_happened", "what_we_do", "what_you_can_do"):
            assert row[name], name
            assert "—" not in row[name], (name, row[name])
            assert "{" not in row[name], (name, row[name])
        assert row["options"] == incident.options
        assert row["owner"] == incident.owner
        assert "—" not in page["headline"]
        if incident.headline is not None and code == run.state.open_incidents()[0]:
            assert "{" not in page["headline"]
        if incident.owner == "customer" and code == run.state.open_incidents()[0]:
            assert page["next"]["who"] == "customer"
    # The two languages say different things (nothing left untranslated).
    es = next(r for r in run.view("es")["incidents"] if r["code"] == code)
    en = next(r for r in run.view("en")["incidents"] if r["code"] == code)
    assert es["what_happened"] != en["what_happened"]
    # Every option offered is a control the customer can use right now.
    assert set(incident.options) <= allowed_controls(run), set(incident.options) - allowed_controls(
        run
    )
    for requirement in incident.requires:
        assert run.state.requirements[requirement]["state"] == "missing"
