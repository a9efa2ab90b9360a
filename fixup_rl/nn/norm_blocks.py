"""Residual blocks with a normalization layer in the branch: the usual alternatives to Fixup."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fixup_rl.nn.block_args import check_block_args
from fixup_rl.nn.layers import he_init_, make_layer
from fixup_rl.nn.residual_block import ResidualBlock


class BatchNormBlock(ResidualBlock):
    """The ResNet block: ``act(x + BN(W_m(...act(BN(W_1 x))...)))``, He init.

    BatchNorm normalizes each feature over the batch, so in train mode a sample's output
    depends on the other samples of its batch. It is the negative control of the
    per-sample-independence tests.

    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016; Ioffe & Szegedy,
    "Batch Normalization", ICML 2015.

    :param width: features (or channels) of the block's input and output
    :param m: the number of weight layers in the branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` (``BatchNorm1d``) or ``"conv"`` (``BatchNorm2d``)
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
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=False) for _ in range(m))
        norm_class = nn.BatchNorm1d if kind == "linear" else nn.BatchNorm2d
        self.norms = nn.ModuleList(norm_class(width) for _ in range(m))
        for layer in self.layers:
            he_init_(layer)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, (layer, norm) in enumerate(zip(self.layers, self.norms, strict=True)):
            h = _batch_norm(norm, layer(h))
            if i < self.m - 1:
                h = self.activation(h)
        return h


def _batch_norm(norm: nn.modules.batchnorm._BatchNorm, h: torch.Tensor) -> torch.Tensor:
    # A batch of one sample has no batch statistics; in train mode it is normalized with the
    # running statistics instead of failing (SB3 can hand over a last minibatch of one).
    if norm.training and h.shape[0] == 1:
        return F.batch_norm(
            h, norm.running_mean, norm.running_var, norm.weight, norm.bias, False, 0.0, norm.eps
        )
    return norm(h)


class LayerNormBlock(ResidualBlock):
    """A pre-norm residual block: ``x + W_m(...act(W_1 LN(x))...)``, He init.

    The normalization sits at the start of the branch and the residual stream is left
    untouched, as in SimBa (Lee et al., "SimBa: Simplicity Bias for Scaling Up Parameters
    in Deep Reinforcement Learning", ICLR 2025) and pre-norm transformers. For images the
    LayerNorm is a ``GroupNorm`` with one group (normalizing over channels and pixels).
    LayerNorm works per sample, so the block is per-sample independent.

    Ba, Kiros & Hinton, "Layer Normalization", 2016.

    :param width: features (or channels) of the block's input and output
    :param m: the number of weight layers in the branch
    :param activation_fn: the activation class
    :param kind: ``"linear"`` or ``"conv"``
    """

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
        self.norm = layer_norm(kind, width)
        self.layers = nn.ModuleList(make_layer(kind, width, width, bias=True) for _ in range(m))
        for layer in self.layers:
            he_init_(layer)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < self.m - 1:
                h = self.activation(h)
        return h


def layer_norm(kind: str, width: int) -> nn.Module:
    """A per-sample normalization over ``width`` features, or over channels and pixels.

    :param kind: ``"linear"`` (``LayerNorm``) or ``"conv"`` (``GroupNorm`` with one group)
    :param width: features or channels
    :return: the normalization module
    """
    return nn.LayerNorm(width) if kind == "linear" else nn.GroupNorm(1, width)
