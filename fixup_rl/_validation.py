"""Argument checks shared by the public constructors.

Every check raises a ``ValueError`` whose message names the parameter, the value that arrived
and what is accepted, so a user never has to read a traceback from deep inside torch.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
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
