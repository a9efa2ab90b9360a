"""The Fixup residual block (Zhang, Dauphin & Ma, ICLR 2019)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from fixup_rl.nn.activation_ops import ActivationOps, activation_ops
from fixup_rl.nn.block_args import check_block_args
from fixup_rl.nn.fold_cache import FoldCache
from fixup_rl.nn.fused_fixup import fused_fixup_linear
from fixup_rl.nn.layers import apply_layer, he_init_, make_layer, weight_sums
from fixup_rl.nn.plain_block import PlainBlock
from fixup_rl.nn.residual_block import ResidualBlock
from fixup_rl.scale import fixup_scale


class FixupBlock(ResidualBlock):
    """A residual block initialized with Fixup, for vectors (Linear) or images (3x3 conv).

    The branch has ``m`` bias-free weight layers. Around them sit learnable scalars: a bias
    before every layer (``bias_in[i]``, init 0), a bias before every activation
    (``bias_out[i]``, init 0), and after the last layer one multiplier (``scale``, init 1)
    followed by one more bias (``bias_out[m - 1]``). For ``m = 2``::

        branch(x) = scale * W2(act(W1(x + a1) + b1) + a2) + b2
        forward(x) = act(x + branch(x))

    The scalars live in one parameter, :attr:`scalars` ``= [bias_in, bias_out, scale]``;
    :attr:`bias_in`, :attr:`bias_out` and :attr:`scale` are views of it.

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

    Three forward paths compute this one function, chosen per call:

    - eval mode without gradients, with folded-weight caching enabled
      (:func:`~fixup_rl.nn.cache_folded_weights`; the SB3 policies of :mod:`fixup_rl.sb3`
      enable it for rollouts, ``predict`` and evaluation): the folded block, its weights
      folded once and refolded only after the parameters change, so inference costs what a
      plain residual block costs;
    - otherwise, for a linear block on a 2-D input with ReLU, Tanh, LeakyReLU or ELU: the
      whole block as one autograd node with a hand-written backward
      (:mod:`fixup_rl.nn.fused_fixup`);
    - otherwise (convolutions, other activations): in eval mode without gradients the
      block folded for this call, else the fused weights and biases under ordinary autograd
      (:meth:`branch`).

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
        check_block_args(width, m, activation_fn, kind, minimum_m=2, num_blocks=num_blocks)
        super().__init__(activation_fn, post_activation=True)
        self.m = m
        self.num_blocks = num_blocks
        self.kind = kind
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=False) for _ in range(m))
        # All 2m + 1 scalars in one tensor: [bias_in (m), bias_out (m), scale]. One parameter
        # instead of 2m + 1 keeps the optimizer, gradient clipping and autograd's gradient
        # accumulation as cheap as for a plain block, whose cost is per tensor at RL sizes.
        self.scalars = nn.Parameter(torch.zeros(2 * m + 1))
        with torch.no_grad():
            self.scalars[2 * m] = 1.0

        depth_scale = fixup_scale(num_blocks, m)
        for layer in self.layers[:-1]:
            he_init_(layer, scale=depth_scale)
        nn.init.zeros_(self.layers[-1].weight)
        self.fold_cache: FoldCache[list[tuple[torch.Tensor, torch.Tensor]]] = FoldCache()

    @property
    def bias_in(self) -> torch.Tensor:
        """The ``m`` scalar biases before each branch layer (a view of :attr:`scalars`)."""
        return self.scalars[: self.m]

    @property
    def bias_out(self) -> torch.Tensor:
        """The ``m`` scalar biases after each branch layer (a view of :attr:`scalars`)."""
        return self.scalars[self.m : 2 * self.m]

    @property
    def scale(self) -> torch.Tensor:
        """The multiplier after the last branch layer, of shape ``(1,)`` (a view)."""
        return self.scalars[2 * self.m :]

    def scalar_parameters(self) -> list[nn.Parameter]:
        """Return the parameters holding the block's scalar biases and multiplier."""
        return [self.scalars]

    def _fused_weight_and_bias(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Layer i as a plain layer with a vector bias: the bias before it, the bias after it
        # and (for the last layer) the multiplier are folded into its weight and bias.
        weight = self.layers[i].weight
        if i == self.m - 1:
            weight = self.scale * weight
        bias = self.bias_in[i] * weight_sums(weight) + self.bias_out[i]
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ops = activation_ops(self.activation)
        inference = not self.training and not torch.is_grad_enabled()
        if inference and self.fold_cache.enabled:
            return self._folded_forward(x, ops)
        if ops is not None and self.kind == "linear" and x.dim() == 2:
            params = self._own_parameters()
            return fused_fixup_linear(x, params[:-1], params[-1], ops)
        if inference:
            return self._folded_forward(x, ops)
        return super().forward(x)

    def _folded_forward(self, x: torch.Tensor, ops: ActivationOps | None) -> torch.Tensor:
        # Inference with the scalars folded into cached weights and biases; every tensor made
        # here is new, so the bias, shortcut and activations are applied in place.
        fused = self.fold_cache.get(self._own_parameters(), self._fused_weights_and_biases)
        activate = ops.inplace if ops is not None else self.activation
        h = x
        for i, (layer, (weight, bias)) in enumerate(zip(self.layers, fused, strict=True)):
            h = apply_layer(layer, h, weight, bias)
            if i < self.m - 1:
                h = activate(h)
        return activate(h.add_(x))

    def _own_parameters(self) -> list[torch.Tensor]:
        # The branch weights, then the scalars, read straight from the module dictionaries:
        # this runs on every call, and nn.Module's attribute lookup costs more than the
        # folded computation it guards at batch 1.
        layers = self._modules["layers"]._modules.values()
        return [*(layer._parameters["weight"] for layer in layers), self._parameters["scalars"]]

    @torch.no_grad()
    def _fused_weights_and_biases(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [self._fused_weight_and_bias(i) for i in range(self.m)]

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "linear":
            # The block as written in the paper: each scalar is one elementwise operation on
            # the activations, which at small batches costs less than touching the weights.
            h = x
            for i, layer in enumerate(self.layers):
                h = F.linear(h + self.bias_in[i], layer.weight)
                if i == self.m - 1:
                    h = h * self.scale
                h = h + self.bias_out[i]
                if i < self.m - 1:
                    h = self.activation(h)
            return h

        # Convolutions: the scalars folded into the weights, so that the scalar bias before a
        # layer also reaches its zero padding (see the class docstring).
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
