"""Believable Spanish customers and identifiers: names, IDs with valid check letters, phone
numbers, ICC-IDs, IBANs and CUPS with valid control digits, postal addresses.

Identifiers a back-end correlates on must never collide inside a run (two processes holding
one key would make correlation ambiguous), so they are drawn through ``Unique``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_ALNUM = "abcdefghjkmnpqrstuvwxyz23456789"

FIRST_NAMES = (
    "María", "Lucía", "Carmen", "Ana", "Laura", "Marta", "Paula", "Elena", "Sara", "Cristina",
    "Isabel", "Pilar", "Raquel", "Nuria", "Alba", "Irene", "Julia", "Rocío", "Noelia", "Beatriz",
    "Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos",
    "Jesús", "Alejandro", "Miguel", "Rafael", "Pablo", "Sergio", "Álvaro", "Adrián", "Jorge",
    "Iván", "Rubén", "Hugo", "Diego", "Luis", "Andrés", "Óscar", "Raúl", "Marc", "Jordi",
)  # fmt: skip
SURNAMES = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
    "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
    "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido",
    "Puig", "Ferrer", "Vidal", "Aguirre", "Etxeberria", "Castells", "Fontaine",
)  # fmt: skip
FOREIGN_NAMES = (
    "Emma Wilson", "Oliver Smith", "Sophie Taylor", "James Brown", "Hannah Clarke",
    "Thomas Walker", "Charlotte Evans", "Jack Robinson", "Amelia Wright", "Harry Green",
)  # fmt: skip

#: (city, postcode prefix, share of customers) — weighted towards the big cities.
CITIES = (
    ("Madrid", "280", 0.22), ("Barcelona", "080", 0.14), ("Valencia", "460", 0.07),
    ("Sevilla", "410", 0.06), ("Zaragoza", "500", 0.04), ("Málaga", "290", 0.05),
    ("Murcia", "300", 0.04), ("Palma", "070", 0.03), ("Bilbao", "480", 0.04),
    ("Alicante", "030", 0.04), ("Córdoba", "140", 0.03), ("Valladolid", "470", 0.03),
    ("Vigo", "362", 0.03), ("Gijón", "332", 0.02), ("A Coruña", "150", 0.03),
    ("Granada", "180", 0.03), ("Las Palmas de Gran Canaria", "350", 0.03),
    ("Santa Cruz de Tenerife", "380", 0.02), ("Pamplona", "310", 0.02), ("Toledo", "450", 0.01),
)  # fmt: skip
CANARY_CITIES = frozenset({"Las Palmas de Gran Canaria", "Santa Cruz de Tenerife"})
STREETS = (
    "Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle del Carmen",
    "Paseo de la Castellana", "Calle de Alcalá", "Gran Vía", "Calle San Juan",
    "Avenida de América", "Calle de la Iglesia", "Plaza de España", "Calle del Sol",
    "Ronda de Valencia", "Calle de Goya", "Avenida del Puerto", "Calle Nueva",
    "Travesía del Pilar", "Calle de Atocha", "Paseo Marítimo", "Calle de Serrano",
)  # fmt: skip
#: Distribution companies and the first four digits of their CUPS.
DISTRIBUTORS = {
    "i-DE Redes Eléctricas": "0021", "e-distribución": "0031", "UFD Distribución": "0022",
    "Viesgo Distribución": "0026", "Nedgia": "0230", "Redexis Gas": "0234",
}  # fmt: skip
ELECTRICITY_DISTRIBUTORS = (
    "i-DE Redes Eléctricas",
    "e-distribución",
    "UFD Distribución",
    "Viesgo Distribución",
)
GAS_DISTRIBUTORS = ("Nedgia", "Redexis Gas")
RETAILERS = (
    "Iberdrola Clientes", "Endesa Energía", "Naturgy Clientes", "Repsol Comercializadora",
    "TotalEnergies", "Holaluz", "Octopus Energy España", "Factor Energía",
)  # fmt: skip
BANKS = ("2100", "0049", "0182", "0081", "2038", "0128", "1465", "0075")


class Unique:
    """Draws values that were not drawn before in this run (per namespace)."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}

    def draw(self, namespace: str, make: Callable[[], str]) -> str:
        """A fresh value from ``make``; retried until it is new in ``namespace``."""
        seen = self._seen.setdefault(namespace, set())
        for _ in range(1000):
            value = make()
            if value not in seen:
                seen.add(value)
                return value
        raise RuntimeError(f"could not draw a new {namespace} value in 1000 attempts")


def token(rng: random.Random, length: int) -> str:
    """Lower-case letters and digits without look-alikes."""
    return "".join(rng.choices(_ALNUM, k=length))


def digits(rng: random.Random, length: int) -> str:
    """``length`` random decimal digits (leading zeros allowed)."""
    return "".join(rng.choices(string.digits, k=length))


def nif(rng: random.Random) -> str:
    """A Spanish DNI/NIF: 8 digits and the check letter."""
    number = rng.randrange(10**7, 10**8)
    return f"{number:08d}{_LETTERS[number % 23]}"


def nie(rng: random.Random) -> str:
    """A foreigner's NIE: X, Y or Z, 7 digits and the check letter."""
    prefix = rng.choice("XYZ")
    body = rng.randrange(10**6, 10**7)
    number = int(f"{'XYZ'.index(prefix)}{body:07d}")
    return f"{prefix}{body:07d}{_LETTERS[number % 23]}"


def cif(rng: random.Random) -> str:
    """A company tax id (CIF): a letter, 7 digits and a control character."""
    letter = rng.choice("ABBBBBBBBBBBB")
    body = digits(rng, 7)
    even = sum(int(d) for d in body[1::2])
    odd = sum(sum(divmod(int(d) * 2, 10)) for d in body[0::2])
    control = (10 - (even + odd) % 10) % 10
    return f"{letter}{body}{control}"


def msisdn(rng: random.Random) -> str:
    """A Spanish mobile number: 9 digits starting 6 (most) or 71-74."""
    if rng.random() < 0.85:
        return f"6{digits(rng, 8)}"
    return f"7{rng.randint(1, 4)}{digits(rng, 7)}"


def landline(rng: random.Random, postcode: str) -> str:
    """A geographic number in the province of ``postcode`` (9 digits starting 8 or 9)."""
    prefix = {"28": "91", "08": "93", "46": "96", "41": "95", "48": "94"}.get(postcode[:2], "98")
    return f"{prefix}{digits(rng, 7)}"


def iccid(rng: random.Random) -> str:
    """A 19-digit Spanish ICC-ID (89, country 34, issuer and serial)."""
    return f"8934{digits(rng, 15)}"


def iban(rng: random.Random) -> str:
    """A Spanish IBAN with valid check digits (ISO 13616, mod 97)."""
    bban = f"{rng.choice(BANKS)}{digits(rng, 4)}{digits(rng, 2)}{digits(rng, 10)}"
    numeric = int(f"{bban}142800")  # E=14, S=28, then "00"
    return f"ES{98 - numeric % 97:02d}{bban}"


def cups(rng: random.Random, distributor: str) -> str:
    """A CUPS with valid control letters: ES, 16 digits, 2 letters (sometimes a border suffix)."""
    number = f"{DISTRIBUTORS.get(distributor, '0021')}{digits(rng, 12)}"
    rest = int(number) % 529
    code = f"ES{number}{_LETTERS[rest // 23]}{_LETTERS[rest % 23]}"
    return code + "0F" if rng.random() < 0.1 else code


def person(rng: random.Random, foreign: bool) -> str:
    """A full name: Spanish (two surnames) or foreign."""
    if foreign:
        return rng.choice(FOREIGN_NAMES)
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"


def city(rng: random.Random, canary: bool) -> tuple[str, str]:
    """``(city, postcode)``; Canary customers live in the islands."""
    options = [c for c in CITIES if (c[0] in CANARY_CITIES) == canary]
    name, prefix, _ = rng.choices(options, [c[2] for c in options])[0]
    return name, f"{prefix}{rng.randrange(1, 60):02d}"


def address(rng: random.Random, town: str, postcode: str) -> str:
    """A postal address line in ``town``."""
    street = rng.choice(STREETS)
    number = rng.randint(1, 180)
    floor = rng.choice(("", f", {rng.randint(1, 9)}º {rng.choice('ABCD')}"))
    return f"{street} {number}{floor}, {postcode} {town}"
