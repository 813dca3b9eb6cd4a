"""The simulator's configuration: ``defaults.toml`` deep-merged with an optional override file.

Every parameter lives in the one documented file shipped with the package
(``relevo/simulate/defaults.toml``). An override (``relevo simulate --config FILE``) is
merged into it table by table: values replace values, tables merge key by key. A key the
defaults do not have is an error naming it, so a typo never passes silently; to drop an
entry of a share table set its weight to 0.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from relevo.simulate.draws import Delay

DEFAULTS = "defaults.toml"


class ConfigError(ValueError):
    """The configuration (or an override of it) is wrong; ``str()`` names the key."""


def default_text() -> str:
    """The text of the shipped defaults file (comments included)."""
    return (resources.files("relevo.simulate") / DEFAULTS).read_text(encoding="utf-8")


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> SimConfig:
    """The defaults, merged with the TOML file at ``path`` and then with ``overrides``.

    Raises ConfigError for unreadable files and for keys the defaults do not know.
    """
    data = tomllib.loads(default_text())
    if path is not None:
        try:
            extra = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        data = merge(data, extra, str(path))
    if overrides:
        data = merge(data, overrides, "overrides")
    return SimConfig(data)


def merge(base: Mapping[str, Any], extra: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """``base`` with ``extra`` merged in (a new dict; neither argument changes)."""
    result = copy.deepcopy(dict(base))
    _merge_into(result, extra, origin, "")
    return result


def _merge_into(target: dict[str, Any], extra: Mapping[str, Any], origin: str, at: str) -> None:
    for key, value in extra.items():
        where = f"{at}.{key}" if at else key
        if key not in target:
            known = ", ".join(sorted(target)) or "nothing"
            raise ConfigError(f"{origin}: unknown key {where!r} (known here: {known})")
        current = target[key]
        if isinstance(current, dict) and not _is_delay(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: {where!r} must be a table")
            _merge_into(current, value, origin, where)
        else:
            target[key] = copy.deepcopy(value)


def _is_delay(table: Mapping[str, Any]) -> bool:
    return "median" in table and "unit" in table


class SimConfig:
    """Typed, read-only access to one table of the configuration.

    ``section("kinds", "mobile_port_in")`` narrows to a sub-table; the getters raise
    ConfigError naming the full key when a value is missing or has the wrong type.
    """

    def __init__(self, data: Mapping[str, Any], path: str = "") -> None:
        self._data = data
        self._path = path

    @property
    def raw(self) -> Mapping[str, Any]:
        """The table as loaded (do not modify)."""
        return self._data

    def has(self, key: str) -> bool:
        """True when the table has ``key``."""
        return key in self._data

    def section(self, *keys: str) -> SimConfig:
        """The sub-table at ``keys``."""
        node: Any = self._data
        path = self._path
        for key in keys:
            path = f"{path}.{key}" if path else key
            if not isinstance(node, Mapping) or key not in node:
                raise ConfigError(f"missing configuration table {path!r}")
            node = node[key]
        if not isinstance(node, Mapping):
            raise ConfigError(f"{path!r} must be a table")
        return SimConfig(node, path)

    def _get(self, key: str) -> Any:
        if key not in self._data:
            raise ConfigError(f"missing configuration key {self._name(key)!r}")
        return self._data[key]

    def _name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def number(self, key: str) -> float:
        """A number (int or float)."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self._name(key)!r} must be a number, not {value!r}")
        return float(value)

    def share(self, key: str) -> float:
        """A number between 0 and 1."""
        value = self.number(key)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{self._name(key)!r} must be between 0 and 1, not {value}")
        return value

    def integer(self, key: str) -> int:
        """A whole number."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{self._name(key)!r} must be a whole number, not {value!r}")
        return value

    def text(self, key: str) -> str:
        """A string."""
        value = self._get(key)
        if not isinstance(value, str):
            raise ConfigError(f"{self._name(key)!r} must be a string, not {value!r}")
        return value

    def texts(self, key: str) -> list[str]:
        """A list of strings."""
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._name(key)!r} must be a list of strings")
        return list(value)

    def weights(self, key: str) -> dict[str, float]:
        """A share table: names to non-negative weights (normalised when drawn)."""
        value = self._get(key)
        if not isinstance(value, Mapping) or not value:
            raise ConfigError(f"{self._name(key)!r} must be a table of weights")
        result: dict[str, float] = {}
        for name, weight in value.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise ConfigError(f"{self._name(key)}.{name} must be a weight >= 0")
            result[str(name)] = float(weight)
        if sum(result.values()) <= 0:
            raise ConfigError(f"{self._name(key)!r} needs at least one positive weight")
        return result

    def delay(self, key: str) -> Delay:
        """A delay table ``{median, p90, unit}``."""
        try:
            return Delay.parse(self._get(key), self._name(key))
        except ValueError as error:
            raise ConfigError(str(error)) from None
