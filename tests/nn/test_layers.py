"""The layer helpers build exactly torch's layers, without their default init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from fixup_rl.nn.layers import make_layer


@pytest.mark.parametrize("bias", [True, False])
def test_linear_layers_are_plain_nn_linear(bias: bool) -> None:
    layer = make_layer("linear", 5, 3, bias=bias)
    reference = nn.Linear(5, 3, bias=bias)

    assert type(layer) is nn.Linear
    assert sorted(vars(layer)) == sorted(vars(reference))  # no attribute of torch's missing
    assert repr(layer) == repr(reference)
    assert list(layer.state_dict()) == list(reference.state_dict())
    assert layer.weight.shape == (3, 5)
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(2, 5)
    torch.testing.assert_close(layer(x), reference(x))


def test_layers_follow_the_default_dtype() -> None:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert make_layer("linear", 2, 2, bias=True).weight.dtype == torch.float64
        assert make_layer("conv", 2, 2, bias=True).weight.dtype == torch.float64
    finally:
        torch.set_default_dtype(previous)


def test_conv_layers_are_3x3_same_padding() -> None:
    layer = make_layer("conv", 4, 6, bias=False)
    assert type(layer) is nn.Conv2d
    assert layer.bias is None
    assert layer(torch.randn(1, 4, 7, 7)).shape == (1, 6, 7, 7)
