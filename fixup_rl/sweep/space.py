"""The value of one sweep parameter: fixed, a grid, or a distribution to sample from.

In a sweep file, a parameter is either a plain value (``depth: 4``, or a mapping such as
``learning_rate: {schedule: linear, initial: 3.0e-4}``) or a mapping with exactly one of these
keys:

- ``grid: [v1, v2, ...]``: every value, crossed with the grids of the other parameters;
- ``choice: [v1, v2, ...]``: one value drawn at random for each trial;
- ``uniform: [low, high]``, ``loguniform: [low, high]``: a float drawn for each trial;
- ``randint: [low, high]``: an integer drawn for each trial, both ends included.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LISTS = ("grid", "choice")
RANGES = ("uniform", "loguniform", "randint")
KINDS = (*LISTS, *RANGES)
"""The keys that mark a mapping as a search space rather than a plain value."""


@dataclass(frozen=True)
class Space:
    """The values one parameter takes in a sweep.

    :param kind: ``"fixed"``, or one of :data:`KINDS`
    :param values: the value (``fixed``), the values (``grid``, ``choice``) or the bounds
        ``(low, high)`` of a range
    """

    kind: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", *KINDS):
            accepted = ", ".join(repr(kind) for kind in ("fixed", *KINDS))
            raise ValueError(f"kind must be one of {accepted}, got {self.kind!r}")
        if not isinstance(self.values, tuple):
            raise ValueError(f"values must be a tuple, got {type(self.values).__name__}")

    @property
    def searched(self) -> bool:
        """Whether the parameter varies from trial to trial."""
        return self.kind != "fixed"

    @property
    def random(self) -> bool:
        """Whether the values are drawn at random (anything but ``fixed`` and ``grid``)."""
        return self.kind not in ("fixed", "grid")

    def candidates(self) -> tuple[Any, ...]:
        """Return the values that checking the sweep tries: every listed value, or the bounds."""
        if self.kind == "uniform" or self.kind == "loguniform":
            return tuple(float(bound) for bound in self.values)
        return self.values

    def to_tune(self, tune: Any) -> Any:
        """Return the value for Tune's ``param_space``.

        :param tune: the ``ray.tune`` module
        """
        if self.kind == "fixed":
            return self.values[0]
        if self.kind == "grid":
            return tune.grid_search(list(self.values))
        if self.kind == "choice":
            return tune.choice(list(self.values))
        low, high = self.values
        if self.kind == "randint":
            return tune.randint(low, high + 1)  # Tune's upper bound is excluded
        return getattr(tune, self.kind)(low, high)

    def to_data(self) -> Any:
        """Return the plain YAML form of the space, as a sweep file writes it."""
        if self.kind == "fixed":
            return self.values[0]
        return {self.kind: list(self.values)}


def parse_space(key: str, value: Any, where: str) -> Space:
    """Read one parameter of a sweep file.

    :param key: the parameter's name, for error messages
    :param value: its value in the file
    :param where: the file, for error messages
    :return: the space; its values are not checked against the recipe keys here
    :raises ValueError: for a malformed search space, naming the key and the value
    """
    if not isinstance(value, Mapping) or not set(value) & set(KINDS):
        return Space("fixed", (value,))
    if len(value) != 1:
        raise ValueError(
            f"{where}: params: {key}={dict(value)!r} is not accepted; a search space is a "
            f"mapping with exactly one key, one of {', '.join(KINDS)}"
        )

    (kind, values), *_ = value.items()
    if kind in LISTS:
        if not isinstance(values, list) or not values:
            raise ValueError(
                f"{where}: params: {key}: {kind}={values!r} is not accepted; expected a "
                f"non-empty list of values, such as {{{kind}: [1, 2, 4]}}"
            )
        return Space(kind, tuple(values))
    return Space(kind, _bounds(key, kind, values, where))


def _bounds(key: str, kind: str, values: Any, where: str) -> tuple[Any, Any]:
    integer = kind == "randint"
    number = numbers.Integral if integer else numbers.Real
    pair = isinstance(values, list) and len(values) == 2
    if pair and all(isinstance(v, number) and not isinstance(v, bool) for v in values):
        low, high = values
        finite = all(math.isfinite(v) for v in values)
        if finite and low <= high and (kind != "loguniform" or low > 0):
            return (int(low), int(high)) if integer else (float(low), float(high))

    accepted = {
        "uniform": "[low, high], two numbers with low <= high",
        "loguniform": "[low, high], two numbers with 0 < low <= high",
        "randint": "[low, high], two integers with low <= high (both included)",
    }[kind]
    raise ValueError(
        f"{where}: params: {key}: {kind}={values!r} is not accepted; expected {accepted}"
    )
