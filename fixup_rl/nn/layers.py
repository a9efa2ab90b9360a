"""Small helpers that let one residual block serve both vector and image inputs.

A block is built from "layers" of one kind: ``"linear"`` (``nn.Linear``, for vectors) or
``"conv"`` (a 3x3 ``nn.Conv2d`` with stride 1 and padding 1, for images). The helpers here
create such layers, apply them with an explicit weight and bias, and initialize them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

LAYER_KINDS = ("linear", "conv")


def make_layer(kind: str, in_dim: int, out_dim: int, bias: bool) -> nn.Linear | nn.Conv2d:
    """Create a Linear layer or a 3x3 same-padding convolution, uninitialized.

    The caller initializes the layer (:func:`he_init_`, or zeros for Fixup's last layer).

    :param kind: ``"linear"`` or ``"conv"``
    :param in_dim: input features (or channels)
    :param out_dim: output features (or channels)
    :param bias: whether the layer has a vector bias
    :return: the layer
    """
    # Built without torch's default init: every block initializes its layers itself, and a
    # deep network would pay for both inits (a 1024-block network has 2048 layers).
    if kind == "linear":
        return _uninitialized_linear(in_dim, out_dim, bias)
    layer = nn.Conv2d(in_dim, out_dim, kernel_size=3, padding=1, bias=bias, device="meta")
    return layer.to_empty(device=torch.get_default_device())


def _uninitialized_linear(in_dim: int, out_dim: int, bias: bool) -> nn.Linear:
    # nn.Linear's own attributes, with empty parameters and no reset_parameters(): several
    # times cheaper than building on the meta device, whose init runs Python decompositions.
    # tests/nn/test_layers.py checks that the result has exactly nn.Linear's attributes.
    layer = nn.Linear.__new__(nn.Linear)
    nn.Module.__init__(layer)
    layer.in_features = in_dim
    layer.out_features = out_dim
    layer.weight = nn.Parameter(torch.empty(out_dim, in_dim))
    layer.register_parameter("bias", nn.Parameter(torch.empty(out_dim)) if bias else None)
    return layer


def apply_layer(
    layer: nn.Linear | nn.Conv2d, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """Apply ``layer``'s operation to ``x`` with the given weight and bias instead of its own.

    :param layer: the layer whose kind (and for convolutions, padding) is used
    :param x: the input
    :param weight: the weight to use, shaped like ``layer.weight``
    :param bias: the vector bias to use, or None
    :return: the output
    """
    if isinstance(layer, nn.Conv2d):
        return F.conv2d(x, weight, bias, padding=layer.padding)
    return F.linear(x, weight, bias)


def weight_sums(weight: torch.Tensor) -> torch.Tensor:
    """Sum a weight over everything but its output dimension.

    A constant ``a`` added to every input of a Linear layer (or to every input pixel of a
    convolution, padding included) comes out as the vector bias ``a * weight_sums(weight)``.

    :param weight: a Linear weight ``(out, in)`` or a conv weight ``(out, in, kh, kw)``
    :return: a vector of shape ``(out,)``
    """
    return weight.flatten(1).sum(dim=1)


def he_init_(layer: nn.Linear | nn.Conv2d, scale: float = 1.0) -> None:
    """He (Kaiming) normal init of ``layer``'s weight, times ``scale``; its bias set to zero.

    He et al., "Delving Deep into Rectifiers", ICCV 2015: std = sqrt(2 / fan_in).

    :param layer: the layer to initialize in place
    :param scale: a factor applied after the He init (Fixup's depth scaling)
    """
    nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
    with torch.no_grad():
        layer.weight.mul_(scale)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
