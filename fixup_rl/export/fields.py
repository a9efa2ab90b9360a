"""Checking the fields of an exported policy's files, with errors that name the file and field.

An exported policy is read from files that may come from anyone, so every value is checked
before it is used, and a rejected value is reported as ``<file>: <field>: expected <what is
accepted>, got <value>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

_SHOWN = 80  # characters of a rejected value shown in a message


class PolicyFileError(ValueError):
    """A file of an exported policy holds something :func:`fixup_rl.load_policy` does not accept.

    The message names the file and the field, what arrived and what is accepted.
    """


@dataclass(frozen=True)
class Field:
    """One field of a file, named by its dotted path (``policy_kwargs.width``).

    :param file: the file the field is read from
    :param name: the field's dotted path; empty for the whole document
    """

    file: Path
    name: str = ""

    def __truediv__(self, key: str | int) -> Field:
        """The field ``key`` inside this one: ``field / "width"``, ``field / 0``."""
        if isinstance(key, int):
            return Field(self.file, f"{self.name}[{key}]")
        return Field(self.file, f"{self.name}.{key}" if self.name else key)

    def fail(self, problem: str) -> NoReturn:
        """Raise a :class:`PolicyFileError` naming the file, this field and ``problem``."""
        where = f"{self.file}: {self.name}" if self.name else str(self.file)
        raise PolicyFileError(f"{where}: {problem}")

    def reject(self, accepted: str, value: Any) -> NoReturn:
        """Raise a :class:`PolicyFileError` saying what is accepted and what arrived."""
        self.fail(f"expected {accepted}, got {show(value)}")

    def mapping(
        self, value: Any, required: Iterable[str] = (), optional: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Return ``value`` if it is a mapping with all of ``required`` and no unknown key."""
        required, optional = tuple(required), tuple(optional)
        accepted = sorted({*required, *optional})
        if not isinstance(value, Mapping):
            self.reject(f"a mapping with the keys {', '.join(accepted) or '(none)'}", value)
        for key in value:
            if key not in accepted:
                self.fail(
                    f"unknown key {show(key)}; accepted keys: {', '.join(accepted) or '(none)'}"
                )
        missing = [key for key in required if key not in value]
        if missing:
            self.fail(f"missing key {', '.join(map(repr, missing))}")
        return dict(value)

    def integer(self, value: Any, minimum: int) -> int:
        """Return ``value`` if it is an integer (not a bool) of at least ``minimum``."""
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.reject(f"an integer >= {minimum}", value)
        return value

    def number(self, value: Any, minimum: float = -math.inf, open_minimum: bool = False) -> float:
        """Return ``value`` as a float if it is a finite number of at least ``minimum``."""
        accepted = "a finite number" + (
            f" > {minimum:g}" if open_minimum else f" >= {minimum:g}" if minimum > -math.inf else ""
        )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.reject(accepted, value)
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the range of floats
            self.reject(accepted, value)
        if not math.isfinite(number) or number < minimum or (open_minimum and number == minimum):
            self.reject(accepted, value)
        return number

    def boolean(self, value: Any) -> bool:
        """Return ``value`` if it is true or false."""
        if not isinstance(value, bool):
            self.reject("true or false", value)
        return value

    def choice(self, value: Any, choices: Iterable[str]) -> str:
        """Return ``value`` if it is one of the strings ``choices``."""
        choices = tuple(choices)
        if not isinstance(value, str) or value not in choices:
            self.reject("one of " + ", ".join(map(repr, choices)), value)
        return value

    def integers(self, value: Any, minimum: int, nonempty: bool = False) -> list[int]:
        """Return ``value`` if it is a list of integers of at least ``minimum``."""
        accepted = f"a{' non-empty' if nonempty else ''} list of integers >= {minimum}"
        if not isinstance(value, list) or (nonempty and not value):
            self.reject(accepted, value)
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or item < minimum:
                self.reject(accepted, value)
        return list(value)


def show(value: Any) -> str:
    """``repr(value)``, cut to a length that fits in a one-line message."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
