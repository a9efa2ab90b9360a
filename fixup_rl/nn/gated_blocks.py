"""Residual blocks whose branch is multiplied by a learnable scalar that starts at zero."""

from __future__ import annotations

import torch
from torch import nn

from fixup_rl.nn.block_args import check_block_args
from fixup_rl.nn.layers import he_init_, make_layer
from fixup_rl.nn.residual_block import ResidualBlock


class _GatedBlock(ResidualBlock):
    """``x + alpha * f(x)`` with ``alpha`` of shape ``(1,)`` starting at 0 and He-init layers."""

    pre_activation: bool = False

    def __init__(
        self,
        width: int,
        m: int = 2,
        activation_fn: type[nn.Module] = nn.ReLU,
        kind: str = "linear",
    ) -> None:
        check_block_args(width, m, activation_fn, kind)
        super().__init__(activation_fn, post_activation=False)
        self.m = m
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=True) for _ in range(m))
        self.alpha = nn.Parameter(torch.zeros(1))
        for layer in self.layers:
            he_init_(layer)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        h = self.activation(x) if self.pre_activation else x
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < self.m - 1:
                h = self.activation(h)
        return self.alpha * h


class ReZeroBlock(_GatedBlock):
    """ReZero: ``x + alpha * W_m(...act(W_1 x)...)``, ``alpha`` init 0, no normalization.

    Bachlechner et al., "ReZero is All You Need: Fast Convergence at Large Depth", UAI 2021
    (arXiv 2020), https://arxiv.org/abs/2003.04887

    :param width: features (or channels) of the block's input and output
    :param m: the number of weight layers in the branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` or ``"conv"``
    """


class SkipInitBlock(_GatedBlock):
    """SkipInit: a pre-activation block ``x + alpha * W_m(...act(W_1 act(x))...)``, ``alpha`` 0.

    De & Smith, "Batch Normalization Biases Residual Blocks Towards the Identity Function in
    Deep Networks", NeurIPS 2020, https://arxiv.org/abs/2002.10444 — the normalization-free
    ResNet-v2 block with a scalar multiplier at the end of the branch.

    :param width: features (or channels) of the block's input and output
    :param m: the number of weight layers in the branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` or ``"conv"``
    """

    pre_activation = True
