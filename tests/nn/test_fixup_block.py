"""Tests of fixup_rl.nn.FixupBlock: its structure, its function and its initialization."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fixup_rl.nn import FixupBlock

KINDS = ["linear", "conv"]
MS = [pytest.param(2, id="m=2"), pytest.param(3, id="m=3")]
ACTIVATIONS = [pytest.param(nn.ReLU, id="relu"), pytest.param(nn.Tanh, id="tanh")]
DTYPES = [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]


def sample_input(kind: str, width: int, batch: int = 8, dtype: torch.dtype = torch.float32):
    shape = (batch, width) if kind == "linear" else (batch, width, 6, 5)
    return torch.randn(shape, dtype=dtype)


def set_scalars_randomly_(block: FixupBlock) -> None:
    # Non-zero values far from the init, so that every scalar visibly changes the output.
    with torch.no_grad():
        for param in block.scalar_parameters():
            param.copy_(torch.empty_like(param).uniform_(0.3, 1.2) * torch.randn(1).sign())
        block.layers[-1].weight.normal_(0.0, 1.0 / math.sqrt(block.layers[-1].weight[0].numel()))


def shifted_layer(kind: str, h: torch.Tensor, shift: torch.Tensor, weight: torch.Tensor):
    """``W(h + shift)``: for a convolution, the input is zero-padded first, then shifted."""
    if kind == "linear":
        return F.linear(h + shift, weight)
    return F.conv2d(F.pad(h, (1, 1, 1, 1)) + shift, weight, padding=0)


def reference_m2(block: FixupBlock, x: torch.Tensor, act: Callable) -> tuple[torch.Tensor, ...]:
    # act(x + (scale * W2(act(W1(x + a1) + b1) + a2) + b2)), written out term by term.
    kind = block.kind
    w1, w2 = (layer.weight for layer in block.layers)
    a1, a2 = block.bias_in
    b1, b2 = block.bias_out
    scale = block.scale
    branch = scale * shifted_layer(kind, act(shifted_layer(kind, x, a1, w1) + b1), a2, w2) + b2
    return branch, act(x + branch)


def reference_m3(block: FixupBlock, x: torch.Tensor, act: Callable) -> tuple[torch.Tensor, ...]:
    # act(x + (scale * W3(act(W2(act(W1(x + a1) + b1) + a2) + b2) + a3) + b3))
    kind = block.kind
    w1, w2, w3 = (layer.weight for layer in block.layers)
    a1, a2, a3 = block.bias_in
    b1, b2, b3 = block.bias_out
    scale = block.scale
    h1 = act(shifted_layer(kind, x, a1, w1) + b1)
    h2 = act(shifted_layer(kind, h1, a2, w2) + b2)
    branch = scale * shifted_layer(kind, h2, a3, w3) + b3
    return branch, act(x + branch)


REFERENCES = {2: reference_m2, 3: reference_m3}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m", MS)
def test_structure_and_scalar_init(kind: str, m: int) -> None:
    block = FixupBlock(16, num_blocks=4, m=m, kind=kind)

    assert len(block.layers) == m
    layer_class = nn.Linear if kind == "linear" else nn.Conv2d
    for layer in block.layers:
        assert isinstance(layer, layer_class)
        assert layer.bias is None

    # A bias before each of the m layers, one before each of the m - 1 activations, one after
    # the multiplier: 2m scalar biases at 0 and a single multiplier at 1, in one parameter.
    assert len(block.bias_in) == m
    assert len(block.bias_out) == m
    assert block.scalar_parameters() == [block.scalars]
    assert block.scalars.shape == (2 * m + 1,)
    for bias in [*block.bias_in, *block.bias_out]:
        assert bias.item() == 0.0
    assert block.scale.shape == (1,)
    assert block.scale.item() == 1.0
    # The named views share the parameter's memory.
    assert block.scale.data_ptr() == block.scalars[2 * m :].data_ptr()

    # The scalars and the layer weights are all the block's parameters.
    weights = [layer.weight for layer in block.layers]
    assert {id(p) for p in block.parameters()} == {id(p) for p in [block.scalars, *weights]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("activation_fn", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_literal_reference(
    kind: str, m: int, activation_fn: type[nn.Module], dtype: torch.dtype
) -> None:
    block = FixupBlock(12, num_blocks=3, m=m, activation_fn=activation_fn, kind=kind).to(dtype)
    set_scalars_randomly_(block)
    x = sample_input(kind, 12, dtype=dtype)

    act = activation_fn()
    expected_branch, expected_out = REFERENCES[m](block, x, act)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    atol = tol * expected_out.detach().abs().max().item()
    torch.testing.assert_close(block.branch(x), expected_branch, rtol=tol, atol=atol)
    torch.testing.assert_close(block(x), expected_out, rtol=tol, atol=atol)


@pytest.mark.parametrize("m", MS)
def test_conv_scalar_bias_shifts_the_padding_too(m: int) -> None:
    # Guards the reference above: shifting before padding (so that the border stays zero) is
    # a different function, and the block must compute the documented one.
    block = FixupBlock(6, num_blocks=3, m=m, kind="conv").double()
    set_scalars_randomly_(block)
    x = sample_input("conv", 6, dtype=torch.float64)

    w = block.layers[0].weight
    a = block.bias_in[0]
    padded_then_shifted = F.conv2d(F.pad(x, (1, 1, 1, 1)) + a, w)
    shifted_then_padded = F.conv2d(x + a, w, padding=1)
    assert (padded_then_shifted - shifted_then_padded).abs().max() > 1e-3

    _, expected = REFERENCES[m](block, x, torch.relu)
    torch.testing.assert_close(block(x), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("activation_fn", ACTIVATIONS)
def test_identity_shortcut_then_activation_at_init(
    kind: str, m: int, activation_fn: type[nn.Module]
) -> None:
    block = FixupBlock(16, num_blocks=8, m=m, activation_fn=activation_fn, kind=kind)
    x = sample_input(kind, 16)

    assert torch.equal(block.branch(x), torch.zeros_like(x))
    assert torch.equal(block(x), activation_fn()(x))


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("num_blocks", [1, 4, 16], ids=lambda n: f"L={n}")
@pytest.mark.parametrize(
    ("kind", "width"),
    [pytest.param("linear", 512, id="linear-512"), pytest.param("conv", 128, id="conv-128")],
)
def test_depth_scaled_he_init(kind: str, width: int, num_blocks: int, m: int) -> None:
    block = FixupBlock(width, num_blocks=num_blocks, m=m, kind=kind)

    for layer in block.layers[:-1]:
        fan_in = layer.weight[0].numel()
        # Written out rather than through fixup_scale, so the two are checked independently.
        expected_std = math.sqrt(2.0 / fan_in) * num_blocks ** (-1 / (2 * m - 2))
        assert layer.weight.std().item() == pytest.approx(expected_std, rel=0.05)
        assert abs(layer.weight.mean().item()) < 0.05 * expected_std
    assert torch.equal(block.layers[-1].weight, torch.zeros_like(block.layers[-1].weight))
