"""The fused Fixup block (one autograd node) against the block written with plain autograd."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl.nn import FixupBlock
from fixup_rl.nn.activation_ops import activation_ops
from fixup_rl.nn.fused_fixup import FoldedFixupLinear, ShiftedFixupLinear, fused_fixup_linear
from fixup_rl.nn.residual_block import ResidualBlock

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.ELU]
WIDTH = 6
# Below the width the scalars shift the activations; from the width on they are folded.
BATCHES = {"shifted": 3, "folded": 8}


def reference(block: FixupBlock, x: torch.Tensor) -> torch.Tensor:
    """The block's function through ordinary autograd (no fused node)."""
    return ResidualBlock.forward(block, x)


def perturbed_block(
    perturb: Callable[..., None],
    activation: type[nn.Module],
    m: int,
) -> FixupBlock:
    block = FixupBlock(WIDTH, num_blocks=4, m=m, activation_fn=activation).double()
    perturb(block, weight_scale=1.0, other_std=0.3)
    return block


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("form", sorted(BATCHES))
def test_gradients_match_autograd_and_finite_differences(
    perturb: Callable[..., None],
    activation: type[nn.Module],
    m: int,
    form: str,
    matches_autograd: Callable[..., None],
) -> None:
    block = perturbed_block(perturb, activation, m)
    x = torch.randn(BATCHES[form], WIDTH, dtype=torch.float64, requires_grad=True)
    matches_autograd(block, lambda x: reference(block, x), [x, *block.parameters()])


@pytest.mark.parametrize("batch", [1, 16, 256])
def test_the_form_follows_the_batch_size(batch: int) -> None:
    block = FixupBlock(16, num_blocks=2)
    out = block(torch.randn(batch, 16, requires_grad=True))
    expected = FoldedFixupLinear if batch >= 16 else ShiftedFixupLinear
    assert type(out.grad_fn).__name__ == f"{expected.__name__}Backward"


@pytest.mark.parametrize("batch", [2, 32])
def test_float32_block_matches_the_reference(perturb: Callable[..., None], batch: int) -> None:
    block = FixupBlock(32, num_blocks=8)
    perturb(block)
    x = torch.randn(batch, 32, requires_grad=True)

    out, expected = block(x), reference(block, x)
    out.square().sum().backward()
    grads = [x.grad, *(param.grad for param in block.parameters())]
    x.grad = None
    block.zero_grad(set_to_none=True)
    expected.square().sum().backward()
    expected_grads = [x.grad, *(param.grad for param in block.parameters())]

    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-4)


def test_frozen_scalars_and_an_input_without_gradient(perturb: Callable[..., None]) -> None:
    block = perturbed_block(perturb, nn.ReLU, 2)
    for scalar in block.scalar_parameters():
        scalar.requires_grad_(False)

    block(torch.randn(4, WIDTH, dtype=torch.float64)).sum().backward()

    assert all(scalar.grad is None for scalar in block.scalar_parameters())
    assert all(layer.weight.grad is not None for layer in block.layers)


def test_no_grad_in_train_mode_gives_the_same_output(perturb: Callable[..., None]) -> None:
    block = perturbed_block(perturb, nn.Tanh, 2)
    x = torch.randn(5, WIDTH, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(block(x), reference(block, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", [nn.GELU, nn.SiLU])
def test_other_activations_use_plain_autograd(
    perturb: Callable[..., None], activation: type[nn.Module]
) -> None:
    block = perturbed_block(perturb, activation, 2)
    x = torch.randn(3, WIDTH, dtype=torch.float64, requires_grad=True)
    out = block(x)
    assert "Fixup" not in type(out.grad_fn).__name__
    torch.testing.assert_close(out, reference(block, x))


def test_inputs_of_other_ranks_use_plain_autograd(perturb: Callable[..., None]) -> None:
    block = perturbed_block(perturb, nn.ReLU, 2)
    x = torch.randn(2, 3, WIDTH, dtype=torch.float64)
    torch.testing.assert_close(block(x), reference(block, x))


def test_activation_ops_only_for_exact_supported_activations() -> None:
    class MyReLU(nn.ReLU):
        pass

    assert activation_ops(nn.ReLU()) is not None
    assert activation_ops(nn.LeakyReLU(0.2)) is not None
    assert activation_ops(MyReLU()) is None  # a subclass may compute something else
    assert activation_ops(nn.LeakyReLU(-0.5)) is None  # the output no longer tells the slope
    assert activation_ops(nn.ELU(alpha=-1.0)) is None
    assert activation_ops(nn.PReLU()) is None


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_gradient_from_output(activation: type[nn.Module]) -> None:
    module = activation()
    ops = activation_ops(module)
    assert ops is not None
    z = torch.randn(50, dtype=torch.float64, requires_grad=True)
    y = module(z)
    grad = torch.randn_like(y)
    (expected,) = torch.autograd.grad(y, z, grad)
    torch.testing.assert_close(ops.grad_from_output(grad, y.detach()), expected)
    torch.testing.assert_close(ops.inplace(z.detach().clone()), y.detach())


def test_functional_entry_point_matches_the_block(perturb: Callable[..., None]) -> None:
    block = perturbed_block(perturb, nn.ReLU, 3)
    x = torch.randn(4, WIDTH, dtype=torch.float64)
    ops = activation_ops(block.activation)
    assert ops is not None
    weights = [layer.weight for layer in block.layers]
    out = fused_fixup_linear(x, weights, block.scalars, ops)
    torch.testing.assert_close(out, reference(block, x))
