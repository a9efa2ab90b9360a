"""Argument checks shared by the public constructors.

Every check raises a ``ValueError`` whose message names the parameter, the value that arrived
and what is accepted, so a user never has to read a traceback from deep inside torch.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from torch import nn


def check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``.

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :param minimum: the smallest accepted value
    :return: ``value`` as a Python ``int``
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_positive_float(name: str, value: Any, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number above zero (or zero).

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :param allow_zero: accept 0 as well
    :return: ``value`` as a Python ``float``
    """
    accepted = "a finite number >= 0" if allow_zero else "a finite number > 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be {accepted}, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {accepted}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``.

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :param choices: the accepted strings
    :return: ``value``
    """
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        accepted = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {accepted}, got {value!r}")
    return value


def check_activation(name: str, value: Any) -> type[nn.Module]:
    """Return ``value`` if it is an ``nn.Module`` subclass such as ``nn.ReLU``.

    Like SB3's ``activation_fn``, the activation is passed as a class, not an instance.

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :return: ``value``
    """
    if isinstance(value, nn.Module):
        raise ValueError(
            f"{name} must be an activation class such as nn.ReLU, got the instance {value!r}; "
            f"pass {type(value).__name__} without calling it"
        )
    if not (isinstance(value, type) and issubclass(value, nn.Module)):
        raise ValueError(f"{name} must be an nn.Module subclass such as nn.ReLU, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (not 0, 1 or a string such as ``"yes"``).

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :return: ``value``
    """
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_int_sequence(
    name: str, value: Any, minimum: int, length: int | None = None
) -> tuple[int, ...]:
    """Return ``value`` as a tuple if it is a non-empty sequence of integers >= ``minimum``.

    :param name: the parameter's name, used in the error message
    :param value: the value to check (a list or tuple; a string or a single int is refused)
    :param minimum: the smallest accepted item
    :param length: the required number of items, or None for any number >= 1
    :return: the items as a tuple of Python ints
    """
    count = f"{length} integers" if length is not None else "one or more integers"
    accepted = f"a sequence of {count} >= {minimum}"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    items = tuple(value)
    if not items or (length is not None and len(items) != length):
        raise ValueError(f"{name} must be {accepted}, got {value!r}")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral) or item < minimum:
            raise ValueError(f"{name} must be {accepted}, got {value!r}")
    return tuple(int(item) for item in items)


def check_optional_mapping(name: str, value: Any) -> dict[str, Any]:
    """Return ``value`` as a dict if it is a mapping with string keys, ``{}`` if it is None.

    :param name: the parameter's name, used in the error message
    :param value: the value to check
    :return: a copy of the mapping
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{name} must be a dict of keyword arguments or None, got {value!r}")
    return dict(value)
