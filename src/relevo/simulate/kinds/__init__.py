"""One flow per process kind: who starts it, what happens to it, how the parties answer."""

from __future__ import annotations

from relevo.simulate.kinds.base import Flow
from relevo.simulate.kinds.billing_cycle import BillingCycle
from relevo.simulate.kinds.billing_data import BillingDataChange
from relevo.simulate.kinds.energy import EnergySwitch
from relevo.simulate.kinds.fixed import FixedPortIn
from relevo.simulate.kinds.mobile import MobilePortIn
from relevo.simulate.kinds.mobile_out import MobilePortOut
from relevo.simulate.kinds.move import MoveHome
from relevo.simulate.kinds.offboarding import Offboarding
from relevo.simulate.kinds.onboarding import OnboardingFollowup
from relevo.simulate.kinds.service import ServiceRequest
from relevo.simulate.kinds.telecom_move import TelecomMove

#: Every simulated kind, by the ``kind`` of its definition.
FLOWS: dict[str, type[Flow]] = {
    flow.kind: flow
    for flow in (
        MobilePortIn,
        MobilePortOut,
        FixedPortIn,
        EnergySwitch,
        MoveHome,
        BillingDataChange,
        BillingCycle,
        Offboarding,
        OnboardingFollowup,
        ServiceRequest,
        TelecomMove,
    )
}

__all__ = ["FLOWS", "Flow"]
