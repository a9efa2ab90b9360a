"""Fixtures shared by the tests of the core networks."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _seed() -> None:
    # Every test starts from the same random state, so a failure reproduces.
    torch.manual_seed(0)


def perturb_parameters_(
    module: nn.Module, weight_scale: float = 0.5, other_std: float = 0.1
) -> None:
    """Add Gaussian noise to every parameter of ``module``, in place.

    Weight tensors (two or more dimensions) get noise of std ``weight_scale / sqrt(fan_in)``, so
    zero-initialized last layers become ordinary layers of a moderate scale; vectors and
    scalars (biases, Fixup scalars, gates, norm affines) get noise of std ``other_std``.
    """
    with torch.no_grad():
        for param in module.parameters():
            std = weight_scale / math.sqrt(param[0].numel()) if param.dim() >= 2 else other_std
            param.add_(torch.randn_like(param) * std)


@pytest.fixture
def perturb() -> Callable[..., None]:
    """The function that perturbs every parameter of a module (see ``perturb_parameters_``)."""
    return perturb_parameters_


def max_batch_dependence(net: nn.Module, batch: torch.Tensor, rows: Iterable[int]) -> float:
    """How much the outputs of ``rows`` change when each row is computed alone, not in ``batch``.

    Returns the largest absolute difference between a row computed alone and the same row
    computed inside ``batch``, divided by ``max(1, largest absolute output of the batch)``.

    The division is there because the matrix products themselves are not batch invariant: BLAS
    (MKL here) sums in a different order for one row than for a batch of 1024, so even a single
    float32 ``nn.Linear`` differs by an ulp or two of its largest outputs. For outputs of order
    1 the measure is the absolute difference; for larger ones it is relative to the output's
    scale. Per-sample networks measure up to about 7e-7 here (a few float32 ulps).
    """
    with torch.no_grad():
        full = net(batch)
        difference = max((net(batch[i : i + 1])[0] - full[i]).abs().max().item() for i in rows)
    return difference / max(1.0, full.abs().max().item())


@pytest.fixture
def batch_dependence() -> Callable[..., float]:
    """The function that measures a network's batch dependence (see ``max_batch_dependence``)."""
    return max_batch_dependence


def assert_matches_autograd(
    call: Callable[[torch.Tensor], torch.Tensor],
    reference: Callable[[torch.Tensor], torch.Tensor],
    inputs: list[torch.Tensor],
) -> None:
    """Check a fast path against its plain-autograd reference, in float64.

    ``inputs[0]`` is the input; the outputs and the gradients with respect to every tensor
    of ``inputs`` must agree, and ``call``'s gradients must pass ``torch.autograd.gradcheck``.
    """
    x = inputs[0]
    out, expected = call(x), reference(x)
    grad_out = torch.randn_like(out)
    grads = torch.autograd.grad(out, inputs, grad_out)
    expected_grads = torch.autograd.grad(expected, inputs, grad_out)

    torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x, *params: call(x), tuple(inputs))


@pytest.fixture
def matches_autograd() -> Callable[..., None]:
    """The check of a fast path against plain autograd (see ``assert_matches_autograd``)."""
    return assert_matches_autograd
