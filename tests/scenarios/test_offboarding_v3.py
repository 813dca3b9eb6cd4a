"""``offboarding`` v3 through the pure engine, on a fixed clock: an early-exit charge above
its cap is refused, never shown as owed.

rules.md §7.1 row 2: a telecom minimum-term penalty is pro-rata (EECC art. 105 caps initial
terms at 24 months); rules.md §3.4, §3.6: an energy one only for a fixed-price contract before
its first renewal, capped at 5% of the energy still to be billed (2026 RD per press, ⚠ verify
the BOE text). Billing sends the amount and its cap; the definition compares them
(``data.amount: {at_most: data.cap}``) and refuses the rest visibly: an incident the customer
and the agent see, a task for billing_ops and a message to billing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.rendering import render

from .helpers import (
    Run,
    accepted,
    assert_incident_view,
    event_templates,
    event_topics,
    load,
    madrid,
    run_templates,
)

C = load("offboarding.v3.yaml")
D = C.definition
CONTRACT = "C7654321"
MONDAY = madrid(2026, 11, 30, 10, 0)
B1 = {"request_code": "B1-0000123", "reason_code": "02", "requested_on": "2026-12-15"}
TELECOM = {"commitment_months": 24, "months_left": 6, "commitment_end": "2027-05-31"}
EXIT_TEMPLATES = {"exit_charge_energy", "exit_charge_telecom"}


def requested(sector: str = "energy", at: datetime = MONDAY, **attributes: Any) -> Run:
    return Run.start(
        C,
        at,
        subject=CONTRACT,
        attributes={"sector": sector, **attributes},
        keys={"msisdn": "612345678"} if sector == "telecom" else {"cups": "ES0021000000000001AB"},
    )


def fixed_price_energy() -> Run:
    """An energy leaver on a fixed price before its first renewal, supply already off."""
    run = requested(reason="termination", energy_price="fixed")
    accepted(run.send("deactivation.requested", B1))
    accepted(run.send("deactivation.accepted", {"planned_on": "2026-12-16"}))
    accepted(
        run.send(
            "deactivation.activated",
            {"activated_on": "2026-12-16", "reading": "15234"},
            at=madrid(2026, 12, 16, 12, 0),
        )
    )
    return run


def notification(run: Run, template: str, lang: str = "es") -> str:
    text = next(n.text for n in D.notifications if n.template == template)
    return render(text, C, run.state, lang)


def customer_texts(run: Run) -> str:
    """Everything the customer reads on the page now, in both languages."""
    return " ".join(str(run.view(lang)) for lang in ("es", "en"))


def test_version_3_and_what_happens_to_running_version_2_processes() -> None:
    assert (D.version, load("offboarding.v2.yaml").definition.version) == (3, 2)
    assert any("processes started on version 2 stay on version 2" in note for note in D.notes)


# -- within the cap: shown ------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["9.50", "12.00", 12])
def test_energy_charge_within_its_cap_is_shown(amount: Any) -> None:
    run = fixed_price_energy()
    charge = {"amount": amount, "cap": "12.00", "energy_to_bill": "240.00"}
    event = accepted(run.send("exit_charge.assessed", charge))
    assert event_templates(event) == ["exit_charge_energy"]
    assert event_topics(event) == []
    assert run.state.attributes["exit_charge"] == amount
    assert run.state.open_incidents() == []
    money = "9,50" if amount == "9.50" else "12,00"
    assert notification(run, "exit_charge_energy") == (
        "Tu contrato es a precio fijo y no ha llegado a su primera renovación, así que hay una "
        f"penalización por salida anticipada de {money}\u00a0€. La ley la limita al 5 % de la "
        "energía que quedaba por facturar: como máximo 12,00\u00a0€."
    )
    run.assert_replay_matches()


def test_telecom_pro_rata_charge_within_its_cap_is_shown() -> None:
    run = requested("telecom", reason="termination")
    event = accepted(
        run.send("exit_charge.assessed", {"amount": "38.50", "cap": "40.00", **TELECOM})
    )
    assert event_templates(event) == ["exit_charge_telecom"]
    assert notification(run, "exit_charge_telecom", "en") == (
        "You are leaving before the end of your 24-month minimum term (it would have ended on "
        "Monday 31 May). The charge is €38.50: only the share of the 6 months left, "
        "€40.00 at most."
    )
    run.assert_replay_matches()


# -- above the cap: refused, visible, never owed --------------------------------------------


def test_energy_charge_above_its_cap_is_refused_and_never_shown_as_owed() -> None:
    run = fixed_price_energy()
    above = {"amount": "14.20", "cap": "12.00", "energy_to_bill": "240.00"}
    event = accepted(run.send("exit_charge.assessed", above))
    # Not shown as a charge: no exit-charge notification, no exit_charge attribute.
    assert event_templates(event) == []
    assert "exit_charge" not in run.state.attributes
    assert not EXIT_TEMPLATES & set(run_templates(run))
    # Refused visibly: billing is told, billing_ops gets a task, customer and agent see it.
    assert event_topics(event) == ["billing.exit_charge_refused"]
    assert run.state.open_incidents() == ["EXIT_CHARGE_ABOVE_CAP"]
    assert run.task("correct_exit_charge")["team"] == "billing_ops"
    assert_incident_view(run, "EXIT_CHARGE_ABOVE_CAP")
    assert run.headline("es") == (
        "Nuestro sistema calculó una penalización por salida anticipada de 14,20\u00a0€, más que "
        "su límite de 12,00\u00a0€. No te la cobramos: la estamos corrigiendo."
    )
    assert run.headline("en") == (
        "Our system worked out an early-exit charge of €14.20, more than its limit of €12.00. "
        "We are not charging it: we are correcting it."
    )
    agent = run.view("en", "agent")
    assert any(row["code"] == "EXIT_CHARGE_ABOVE_CAP" for row in agent["incidents"])

    # Billing corrects it: the charge within the cap is shown, the refusal closes.
    corrected = {"amount": "11.90", "cap": "12.00", "energy_to_bill": "240.00"}
    event = accepted(run.send("exit_charge.assessed", corrected))
    assert event_templates(event) == ["exit_charge_energy"]
    assert run.state.incidents["EXIT_CHARGE_ABOVE_CAP"]["status"] == "resolved"
    assert run.task("correct_exit_charge")["status"] == "done"
    assert "11,90\u00a0€" in notification(run, "exit_charge_energy")
    run.assert_replay_matches()


def test_telecom_charge_above_its_pro_rata_cap_is_refused_until_billing_removes_it() -> None:
    run = requested("telecom", reason="termination")
    event = accepted(
        run.send("exit_charge.assessed", {"amount": "83.00", "cap": "40.00", **TELECOM})
    )
    assert event_topics(event) == ["billing.exit_charge_refused"]
    assert event_templates(event) == []
    assert run.state.open_incidents() == ["EXIT_CHARGE_ABOVE_CAP"]
    assert "exit_charge" not in run.state.attributes
    assert "commitment_end" not in run.state.dates
    assert "83,00\u00a0€" in run.headline("es") and "40,00\u00a0€" in run.headline("es")
    accepted(run.send("exit_charge.removed"))
    assert run.state.incidents["EXIT_CHARGE_ABOVE_CAP"]["status"] == "resolved"
    assert run.task("correct_exit_charge")["status"] == "done"
    run.assert_replay_matches()


@pytest.mark.parametrize("amount", ["41,80", "40 €", "cuarenta"])
def test_a_charge_that_is_not_a_number_is_not_charged_until_checked(amount: str) -> None:
    run = requested("telecom", reason="termination")
    event = accepted(
        run.send("exit_charge.assessed", {"amount": amount, "cap": "40.00", **TELECOM})
    )
    assert event_topics(event) == ["billing.exit_charge_refused"]
    assert event_templates(event) == []
    assert run.state.open_incidents() == ["EXIT_CHARGE_UNCHECKED"]
    assert run.task("correct_exit_charge")["status"] == "open"
    assert_incident_view(run, "EXIT_CHARGE_UNCHECKED")
    assert run.headline("en") == (
        "We are checking the early-exit charge our system worked out. Until we have checked "
        "that it is within its limit, we do not charge it."
    )
    # The unreadable amount is not put before the customer as an amount owed.
    assert amount not in customer_texts(run)
    run.assert_replay_matches()


def test_an_unreadable_cap_is_not_charged_either() -> None:
    run = fixed_price_energy()
    accepted(run.send("exit_charge.assessed", {"amount": "9.50", "cap": "5%"}))
    assert run.state.open_incidents() == ["EXIT_CHARGE_UNCHECKED"]
    assert "exit_charge" not in run.state.attributes


@pytest.mark.parametrize("months", [36, "36", 0, "doce"])
def test_telecom_term_outside_one_to_24_months_is_not_allowed(months: Any) -> None:
    # EECC art. 105: initial terms of at most 24 months (rules.md §7.1 row 2), as in v2.
    run = requested("telecom", reason="termination")
    charge = {"amount": "20.00", "cap": "80.00", **TELECOM, "commitment_months": months}
    accepted(run.send("exit_charge.assessed", charge))
    assert run.state.open_incidents() == ["EXIT_CHARGE_NOT_ALLOWED"]
    assert "exit_charge" not in run.state.attributes


def test_energy_charge_not_allowed_is_still_refused_whatever_its_cap() -> None:
    run = requested(reason="termination", energy_price="indexed")
    accepted(run.send("exit_charge.assessed", {"amount": "9.50", "cap": "12.00"}))
    assert run.state.open_incidents() == ["EXIT_CHARGE_NOT_ALLOWED"]
