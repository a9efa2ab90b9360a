"""A plain residual block: no normalization, no scalars."""

from __future__ import annotations

import torch
from torch import nn

from fixup_rl.nn.activation_ops import activation_ops
from fixup_rl.nn.block_args import check_block_args
from fixup_rl.nn.layers import apply_layer, he_init_, make_layer
from fixup_rl.nn.residual_block import ResidualBlock


class PlainBlock(ResidualBlock):
    """``act(x + W_m(...act(W_1 x + c_1)...) + c_m)`` with He init everywhere.

    This is the ``norm="none"`` baseline: the residual block of He et al. (CVPR 2016) with
    its BatchNorm removed and nothing put in its place. Its output variance roughly doubles
    with every block, so deep stacks overflow; it is the unstable reference point that
    Fixup is compared against. :func:`fixup_rl.fold` also turns every Fixup block into a
    ``PlainBlock`` with the Fixup scalars folded into its weights and vector biases, so a
    folded Fixup network costs exactly what a plain residual network costs.

    :param width: features (or channels) of the block's input and output
    :param m: the number of weight layers in the branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` for vectors, ``"conv"`` for images (3x3 convolutions)
    """

    def __init__(
        self,
        width: int,
        m: int = 2,
        activation_fn: type[nn.Module] = nn.ReLU,
        kind: str = "linear",
    ) -> None:
        check_block_args(width, m, activation_fn, kind)
        super().__init__(activation_fn, post_activation=True)
        self.m = m
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=True) for _ in range(m))
        for layer in self.layers:
            he_init_(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            return super().forward(x)

        # Inference: functional calls, and in place on the tensors made here (no autograd).
        ops = activation_ops(self.activation)
        activate = ops.inplace if ops is not None else self.activation
        h = x
        for i, layer in enumerate(self.layers):
            h = apply_layer(layer, h, layer.weight, layer.bias)
            if i < self.m - 1:
                h = activate(h)
        return activate(h.add_(x))

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < self.m - 1:
                h = self.activation(h)
        return h
