"""The Fixup residual block (Zhang, Dauphin & Ma, ICLR 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from fixup_rl.nn.layers import apply_layer, he_init_, make_layer, weight_sums
from fixup_rl.nn.plain_block import PlainBlock
from fixup_rl.nn.residual_block import ResidualBlock
from fixup_rl.scale import fixup_scale


class FixupBlock(ResidualBlock):
    """A residual block initialized with Fixup, for vectors (Linear) or images (3x3 conv).

    The branch has ``m`` bias-free weight layers. Around them sit learnable scalars, each of
    shape ``(1,)``: a bias before every layer (``bias_in[i]``, init 0), a bias before every
    activation (``bias_out[i]``, init 0), and after the last layer one multiplier (``scale``,
    init 1) followed by one more bias (``bias_out[m - 1]``). For ``m = 2``::

        branch(x) = scale * W2(act(W1(x + a1) + b1) + a2) + b2
        forward(x) = act(x + branch(x))

    Initialization (Fixup, rules 2 and 3): every branch layer but the last gets He normal
    init times ``fixup_scale(num_blocks, m)``; the last layer is zero, so every block starts
    as the identity (followed by the activation).

    The scalar additions are computed inside the layers' matrix products: adding ``a`` to
    every input of a layer with weight ``W`` equals adding the vector bias
    ``a * W.sum(over inputs)`` to its output, and multiplying the output by ``scale`` equals
    using ``scale * W``. The result is the same function with one fused multiply-add per
    layer instead of extra passes over the batch. For convolutions this makes ``a`` reach the
    zero padding too (the input is padded, then shifted by ``a``), which keeps the block
    exactly foldable into a plain convolution (:func:`fixup_rl.fold`).

    Zhang, Dauphin & Ma, "Fixup Initialization: Residual Learning Without Normalization",
    ICLR 2019, https://arxiv.org/abs/1901.09321

    :param width: features (or channels) of the block's input and output
    :param num_blocks: ``L``, the number of residual blocks in the whole network, which sets
        the depth scaling of the branch layers
    :param m: the number of weight layers in the branch (2: basic block, 3: bottleneck form)
    :param activation_fn: the activation class
    :param kind: ``"linear"`` for vectors, ``"conv"`` for images (3x3 convolutions)
    """

    def __init__(
        self,
        width: int,
        num_blocks: int,
        m: int = 2,
        activation_fn: type[nn.Module] = nn.ReLU,
        kind: str = "linear",
    ) -> None:
        super().__init__(activation_fn, post_activation=True)
        self.m = m
        self.num_blocks = num_blocks
        self.kind = kind
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=False) for _ in range(m))
        self.bias_in = nn.ParameterList(nn.Parameter(torch.zeros(1)) for _ in range(m))
        self.bias_out = nn.ParameterList(nn.Parameter(torch.zeros(1)) for _ in range(m))
        self.scale = nn.Parameter(torch.ones(1))

        depth_scale = fixup_scale(num_blocks, m)
        for layer in self.layers[:-1]:
            he_init_(layer, scale=depth_scale)
        nn.init.zeros_(self.layers[-1].weight)

    def scalar_parameters(self) -> list[nn.Parameter]:
        """Return the block's scalar biases and multiplier (the Fixup scalars)."""
        return [*self.bias_in, *self.bias_out, self.scale]

    def _fused_weight_and_bias(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Layer i as a plain layer with a vector bias: the bias before it, the bias after it
        # and (for the last layer) the multiplier are folded into its weight and bias.
        weight = self.layers[i].weight
        if i == self.m - 1:
            weight = self.scale * weight
        bias = self.bias_in[i] * weight_sums(weight) + self.bias_out[i]
        return weight, bias

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            weight, bias = self._fused_weight_and_bias(i)
            h = apply_layer(layer, h, weight, bias)
            if i < self.m - 1:
                h = self.activation(h)
        return h

    @torch.no_grad()
    def folded(self) -> PlainBlock:
        """Return a :class:`PlainBlock` computing the same function, for inference.

        Every scalar is folded into the layers' weights and vector biases, so the folded
        block costs exactly what a plain residual block costs.
        """
        width = self.layers[0].weight.shape[0]
        plain = PlainBlock(width, self.m, type(self.activation), self.kind)
        # Converted before the copy, so a float64 block keeps float64 precision.
        plain.to(self.scale.device, self.scale.dtype)
        # A copy: a learnable activation (PReLU) must not be shared with this block.
        plain.activation = copy.deepcopy(self.activation)
        for i, layer in enumerate(plain.layers):
            weight, bias = self._fused_weight_and_bias(i)
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)
        return plain
