"""User errors of the ``fixup-rl`` command: one line on stderr, exit status 2."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from gymnasium.error import DependencyNotInstalled

USAGE_ERROR = 2


class UsageError(Exception):
    """Something the user asked for cannot be done; the message says what and how to fix it."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors that setting up a run raises for bad input into :class:`UsageError`.

    Only the setup (configuration, folders, envs, model loading) runs under this; errors
    raised while training are bugs and keep their traceback.
    """
    try:
        yield
    except (ValueError, ModuleNotFoundError, DependencyNotInstalled) as error:
        raise UsageError(str(error)) from error


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors fit on one line (argparse prints the usage too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    return _integer(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _integer(text, 0)


def _integer(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
    return value
