"""The errors that stop training when numbers stop being numbers."""

from __future__ import annotations


class NonFiniteError(FloatingPointError):
    """Training met a NaN or an infinity it cannot recover from; the message names the cause."""


class NonFiniteUpdatesError(NonFiniteError):
    """Too many optimizer steps in a row had non-finite gradients and were skipped."""


class NonFiniteEnvError(NonFiniteError):
    """An env returned a non-finite observation or reward."""
