"""Outcome texts stay true on every path that reaches them (issue 15).

A cancellation by the central node for a technical reason, or by the donor, is not "you
cancelled"; a withdrawal after we started supplying energy or service does not mean "we charge
you nothing" for what was used (TRLGDCU, Real Decreto Legislativo 1/2007, art. 108.3); porting
itself carries no direct charge for the end-user (EECC art. 106, rules.md §0.1).
"""

from __future__ import annotations

import pytest

from . import test_energy_switch as energy
from . import test_fixed_port_in as fixed
from . import test_mobile_port_in as mobile
from . import test_onboarding_followup as onboarding
from .helpers import Run, accepted, madrid

CLAIMS_THE_CUSTOMER_CANCELLED = (
    "Has cancelado",
    "Hemos cancelado",
    "You cancelled",
    "as you asked",
)
CLAIMS_NOTHING_IS_CHARGED = (
    "no te cobramos nada",
    "charge you nothing",
    "free of charge",
    "gratis",
)


def _outcome(run: Run) -> str:
    """The headline and outcome text the customer reads once the process ended."""
    return " ".join(
        f"{run.view(lang)['headline']} {run.view(lang)['outcome']}" for lang in ("es", "en")
    )


@pytest.mark.parametrize("cause", ["CANC_TECNI", "CANC_ERROR"])
def test_a_mobile_port_cancelled_by_the_central_node_does_not_say_the_customer_did(
    cause: str,
) -> None:
    run = mobile.in_donor_check()
    accepted(run.send("nc.cancelled", {"cause": cause}, at=madrid(2026, 12, 1, 10, 0)))
    text = _outcome(run)
    assert not any(claim in text for claim in CLAIMS_THE_CUSTOMER_CANCELLED), text
    assert "La portabilidad no te cuesta nada." in text


def test_a_fixed_port_cancelled_by_the_donor_does_not_say_the_customer_did() -> None:
    run = fixed.porting()
    accepted(run.send("port.cancelled", {"cause": "donor"}))
    assert run.state.status == "cancelled"
    text = _outcome(run)
    assert not any(claim in text for claim in CLAIMS_THE_CUSTOMER_CANCELLED), text


def test_an_energy_switch_cancelled_by_the_distributor_does_not_say_the_customer_did() -> None:
    run = energy.scheduled()
    accepted(run.send("switch.cancelled", {"cause": "distributor"}, at=madrid(2026, 10, 7, 10, 0)))
    text = _outcome(run)
    assert not any(claim in text for claim in CLAIMS_THE_CUSTOMER_CANCELLED), text


def test_withdrawing_after_the_supply_started_says_the_energy_used_is_paid() -> None:
    run = energy.switched()
    control = run.control("withdraw", "en")
    assert control["allowed"] is True
    assert "you pay only for the energy you used with us" in control["description"]
    run.act("withdraw", at=madrid(2026, 10, 15, 10, 0))
    text = _outcome(run)
    assert not any(claim in text.lower() for claim in CLAIMS_NOTHING_IS_CHARGED), text
    assert "solo pagas la energía que consumiste con nosotros" in text


def test_withdrawing_from_a_service_in_use_says_the_part_used_is_paid() -> None:
    run = onboarding.started()
    assert "part of the service you already used" in run.control("withdraw", "en")["description"]
    run.act("withdraw", at=madrid(2026, 12, 5, 10, 0))
    text = _outcome(run)
    assert not any(claim in text.lower() for claim in CLAIMS_NOTHING_IS_CHARGED), text
    assert "Solo pagas la parte del servicio que ya usaste" in text
