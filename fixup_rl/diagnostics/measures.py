"""Small measurements shared by the diagnostics, in float64 and safe against overflow.

A float32 network that overflows produces ``inf`` and ``nan``; every measure here passes them
through as ``float("inf")`` or ``float("nan")`` instead of raising, so the report can say
where a network overflowed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


def rms_norm(batch: torch.Tensor) -> float:
    """Return the root mean square over the batch of each sample's Euclidean norm.

    ``sqrt(mean_b ||t_b||^2)`` for a tensor ``t`` of shape ``(batch, ...)``: the typical size of
    one sample's vector (or feature map). Computed in float64, so float32 values near the top
    of their range do not overflow when squared.

    :param batch: a tensor whose first dimension is the batch
    :return: the norm, ``inf`` or ``nan`` if ``batch`` holds them
    """
    values = batch.detach().double().flatten(1)
    return _overflow_or(values, lambda v: v.pow(2).sum(1).mean().sqrt().item())


def frobenius_norm(tensor: torch.Tensor) -> float:
    """Return the Frobenius norm of ``tensor`` (in float64), ``inf`` or ``nan`` on overflow."""
    values = tensor.detach().double()
    return _overflow_or(values, lambda v: v.norm().item())


def entry_std(tensor: torch.Tensor) -> float:
    """Return the std of all entries of ``tensor`` (float64), ``inf`` or ``nan`` on overflow."""
    values = tensor.detach().double()
    return _overflow_or(values, lambda v: v.std().item())


def finite_max(values: Iterable[float]) -> float:
    """Return the largest of ``values``, ``nan`` if any is ``nan``, 0 if there is none."""
    values = list(values)
    if any(math.isnan(value) for value in values):
        return math.nan
    return max(values, default=0.0)


def _overflow_or(values: torch.Tensor, measure: Callable[[torch.Tensor], float]) -> float:
    if bool(torch.isnan(values).any()):
        return math.nan
    if bool(torch.isinf(values).any()):
        return math.inf
    return float(measure(values))


@contextmanager
def kept_buffers(module: nn.Module) -> Iterator[None]:
    """Restore ``module``'s buffers (BatchNorm running statistics) when the block exits.

    A train-mode forward pass updates BatchNorm's running statistics; measuring a network
    should not change it.
    """
    saved = [(buffer, buffer.clone()) for buffer in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU random generator of its own, so the diagnostics never touch torch's global one."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator
