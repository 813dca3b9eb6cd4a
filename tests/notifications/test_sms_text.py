"""SMS length and segments: GSM-7 (160 / 153 per part) against UCS-2 (70 / 67 per part)."""

from __future__ import annotations

import pytest

from relevo.services.notifications.sms_text import measure


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        # Spanish letters in GSM-7: é ñ ¿ ¡ ü keep the text in GSM-7.
        ("¿Señal? ¡Sí! é ü", "UCS-2", 16, 1),
        ("¿Señal? ¡Ya! é ü", "GSM-7", 16, 1),
        # The euro sign is an extension character: two septets.
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 70, "GSM-7", 70, 1),
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        # An emoji is a surrogate pair: two units, never split across parts.
        ("😀", "UCS-2", 2, 1),
        ("á" * 66 + "😀" + "á" * 10, "UCS-2", 78, 2),
        ("á" * 66 + "😀", "UCS-2", 68, 1),
        ("á" * 69 + "😀", "UCS-2", 71, 2),
    ],
)
def test_encoding_units_and_segments(text: str, encoding: str, units: int, segments: int) -> None:
    measured = measure(text)
    assert (measured.encoding, measured.units, measured.segments) == (encoding, units, segments)


def test_an_escape_pair_is_not_split_across_parts() -> None:
    # 152 septets then "€" (2): the pair does not fit in the first 153-septet part.
    assert measure("a" * 152 + "€" + "a" * 10).segments == 2
    assert measure("a" * 152 + "€" + "a" * 152).segments == 3
    assert measure("a" * 151 + "€" + "a" * 153).segments == 2


def test_one_accent_pushes_spanish_text_into_ucs2() -> None:
    plain = "Recuerda: puedes cancelar el cambio hasta el viernes 9 de octubre a las 14:00. " * 2
    assert measure(plain).encoding == "GSM-7"
    assert (measure(plain).units, measure(plain).segments) == (158, 1)
    accented = plain.replace("cambio", "cambió", 1)
    assert measure(accented).encoding == "UCS-2"
    assert measure(accented).units == len(plain)
    assert measure(accented).segments == 3  # 158 units: 67 + 67 + 24
