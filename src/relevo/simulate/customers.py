"""Drawing the customer behind a new case: channel, language, home and identity."""

from __future__ import annotations

import random
from collections.abc import Mapping

from relevo.simulate import people
from relevo.simulate.case import Customer
from relevo.simulate.draws import chance, pick

#: Channels where an agent (shop, call centre, door to door, social media) starts the sale.
AGENT_CHANNELS = ("store", "call_centre", "door_to_door", "social")


def draw_customer(
    rng: random.Random,
    channels: Mapping[str, float],
    unique: people.Unique,
    *,
    english_share: float,
    canary_share: float,
) -> Customer:
    """A customer who comes through one of ``channels`` (weights); ids and phone numbers
    are unique within the run (``unique``)."""
    channel = pick(rng, channels)
    english = chance(rng, english_share)
    canary = chance(rng, canary_share)
    town, postcode = people.city(rng, canary)
    agent = ""
    if channel in AGENT_CHANNELS:
        agent = f"agt_{channel}_{rng.randrange(1, 80):03d}"
    return Customer(
        id=unique.draw("customer", lambda: "cus_" + people.token(rng, 12)),
        name=people.person(rng, english),
        id_number=people.nie(rng) if english or chance(rng, 0.12) else people.nif(rng),
        language="en" if english else "es",
        timezone="Atlantic/Canary" if canary else None,
        channel=channel,
        agent=agent,
        city=town,
        postcode=postcode,
        address=people.address(rng, town, postcode),
        phone=unique.draw("phone", lambda: people.msisdn(rng)),
        iban=people.iban(rng),
    )
