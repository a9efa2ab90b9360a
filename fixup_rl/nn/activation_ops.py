"""Fast functional forms of the activations RL networks use, and their output-based gradients.

The fused Fixup block (:mod:`fixup_rl.nn.fused_fixup`) saves each activation's output, not
its input, so it needs the activation's backward in terms of that output; the folded
inference paths apply the activation in place on a fresh tensor, without a module call.
Both are known here for ReLU, Tanh, LeakyReLU (non-negative slope) and ELU (positive alpha).
For any other activation :func:`activation_ops` returns ``None`` and the blocks fall back to
calling the module under ordinary autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn


class ActivationOps(NamedTuple):
    """The functional forms of one activation module.

    :param inplace: ``f(z) -> z``, applied in place (for tensors nothing else holds)
    :param grad_from_output: ``f(grad_output, output) -> grad_input``
    """

    inplace: Callable[[torch.Tensor], torch.Tensor]
    grad_from_output: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def activation_ops(activation: nn.Module) -> ActivationOps | None:
    """Return the functional forms of ``activation``, or ``None`` when it is not supported.

    Only exact instances of the supported classes qualify (a subclass may compute something
    else), and only with parameters for which the output determines the slope: LeakyReLU with
    ``negative_slope >= 0`` (the output keeps the input's sign) and ELU with ``alpha > 0``.

    :param activation: the activation module
    :return: its in-place forward and output-based backward, or ``None``
    """
    kind = type(activation)
    if kind is nn.ReLU:
        return _RELU
    if kind is nn.Tanh:
        return _TANH
    if kind is nn.LeakyReLU and activation.negative_slope >= 0:
        return _leaky_relu_ops(float(activation.negative_slope))
    if kind is nn.ELU and activation.alpha > 0:
        return _elu_ops(float(activation.alpha))
    return None


# Built once: the blocks look their activation up on every forward pass.
_RELU = ActivationOps(torch.relu_, partial(torch.ops.aten.threshold_backward, threshold=0))
_TANH = ActivationOps(torch.tanh_, torch.ops.aten.tanh_backward)


@lru_cache(maxsize=64)
def _leaky_relu_ops(slope: float) -> ActivationOps:
    return ActivationOps(
        partial(F.leaky_relu_, negative_slope=slope), partial(_leaky_relu_grad, slope=slope)
    )


@lru_cache(maxsize=64)
def _elu_ops(alpha: float) -> ActivationOps:
    return ActivationOps(partial(F.elu_, alpha=alpha), partial(_elu_grad, alpha=alpha))


def _leaky_relu_grad(grad: torch.Tensor, output: torch.Tensor, slope: float) -> torch.Tensor:
    return torch.ops.aten.leaky_relu_backward(grad, output, slope, True)


def _elu_grad(grad: torch.Tensor, output: torch.Tensor, alpha: float) -> torch.Tensor:
    return torch.ops.aten.elu_backward(grad, alpha, 1, 1, True, output)
