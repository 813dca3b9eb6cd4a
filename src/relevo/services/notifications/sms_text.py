"""How long an SMS is and in how many parts it travels.

An SMS is GSM-7 when every character is in the GSM 03.38 alphabet (extension characters
such as ``€`` take two septets): 160 septets fit in one message, 153 in each part of a
longer one. One character outside it (Spanish ``á í ó ú``, typographic quotes, emoji) sends
the whole text as UCS-2: 70 UTF-16 units in one message, 67 per part. A part never splits
an escape pair or a surrogate pair, so counts are exact, not estimates.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Encoding = Literal["GSM-7", "UCS-2"]

_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM = _GSM_BASIC | _GSM_EXTENSION

#: (units in a single message, units per part of a concatenated one)
_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


class SmsText(NamedTuple):
    """An SMS text with its encoding, its length in that encoding's units (septets or
    UTF-16 units) and the number of parts it is sent in."""

    text: str
    encoding: Encoding
    units: int
    segments: int


def measure(text: str) -> SmsText:
    """``text`` measured as an SMS: encoding, length in units and segment count."""
    if _GSM.issuperset(text):
        encoding: Encoding = "GSM-7"
        units = len(text) + sum(1 for ch in text if ch in _GSM_EXTENSION)
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
    single, per_part = _LIMITS[encoding]
    if units <= single:
        return SmsText(text, encoding, units, 1)
    if units == len(text):  # every character one unit: no pair to keep whole
        return SmsText(text, encoding, units, -(-units // per_part))
    if encoding == "GSM-7":
        costs = [2 if ch in _GSM_EXTENSION else 1 for ch in text]
    else:
        costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return SmsText(text, encoding, units, _segments(costs, single, per_part))


def _segments(costs: list[int], single: int, per_part: int) -> int:
    """How many parts characters of these unit costs fill, none split across two parts."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts
