"""A ResidualMLP's Fixup blocks run as a whole, against the network computed block by block."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import fold
from fixup_rl.nn import ResidualMLP, cache_folded_weights
from fixup_rl.nn.fused_stack import stack_pays
from fixup_rl.nn.residual_block import ResidualBlock

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.ELU]
WIDTH = 6


def block_by_block(net: ResidualMLP, x: torch.Tensor) -> torch.Tensor:
    """The network through ordinary autograd: the input layer, then each block as written."""
    h = net.input_activation(net.input(x))
    for block in net.blocks:
        h = ResidualBlock.forward(block, h)
    return h


def perturbed_net(
    perturb: Callable[..., None], activation: type[nn.Module], m: int, blocks: int = 3
) -> ResidualMLP:
    net = ResidualMLP(4, WIDTH, blocks, m=m, activation_fn=activation).double()
    perturb(net, weight_scale=1.0, other_std=0.3)
    return net


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("m", [2, 3])
def test_gradients_match_autograd_and_finite_differences(
    perturb: Callable[..., None],
    activation: type[nn.Module],
    m: int,
    matches_autograd: Callable[..., None],
) -> None:
    net = perturbed_net(perturb, activation, m)
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    assert type(net(x).grad_fn).__name__ == "FixupStackLinearBackward"
    matches_autograd(net, lambda x: block_by_block(net, x), [x, *net.parameters()])


def test_one_block_and_float32_match_the_reference(perturb: Callable[..., None]) -> None:
    for blocks, dtype in ((1, torch.float64), (8, torch.float32)):
        net = ResidualMLP(5, 32, blocks).to(dtype)
        perturb(net)
        x = torch.randn(4, 5, dtype=dtype)
        out, expected = net(x), block_by_block(net, x)
        grads = torch.autograd.grad(out.square().sum(), list(net.parameters()))
        expected_grads = torch.autograd.grad(expected.square().sum(), list(net.parameters()))
        tolerance = 1e-12 if dtype == torch.float64 else 1e-4
        torch.testing.assert_close(out, expected, rtol=tolerance, atol=tolerance)
        for grad, expected_grad in zip(grads, expected_grads, strict=True):
            torch.testing.assert_close(grad, expected_grad, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(
    ("width", "batch", "node"),
    [
        (256, 1, "FixupStackLinear"),
        (256, 255, "FixupStackLinear"),
        (256, 256, "FoldedFixupLinear"),  # one node per block from a batch of the width on
        (16, 1024, "FixupStackLinear"),  # up to 16384 activations, the stack still pays
        (16, 1025, "FoldedFixupLinear"),
    ],
)
def test_small_batches_take_one_node_large_ones_one_per_block(
    width: int, batch: int, node: str
) -> None:
    assert stack_pays(batch, width) == (node == "FixupStackLinear")
    net = ResidualMLP(3, width, 2)
    out = net(torch.randn(batch, 3))
    assert type(out.grad_fn).__name__.startswith(node)


def test_a_hook_on_a_block_sends_the_network_block_by_block() -> None:
    net = ResidualMLP(3, 16, 4)
    calls: list[int] = []
    handle = net.blocks[2].register_forward_hook(lambda *_: calls.append(1))
    out = net(torch.randn(2, 3))
    assert calls == [1]
    assert not type(out.grad_fn).__name__.startswith("FixupStackLinear")

    handle.remove()
    assert type(net(torch.randn(2, 3)).grad_fn).__name__.startswith("FixupStackLinear")


def test_a_block_with_another_activation_sends_the_network_block_by_block() -> None:
    net = ResidualMLP(3, 16, 2)
    net.blocks[1].activation = nn.Tanh()
    x = torch.randn(2, 3)
    out = net(x)
    assert not type(out.grad_fn).__name__.startswith("FixupStackLinear")
    torch.testing.assert_close(out, block_by_block(net, x))


@pytest.mark.parametrize("batch", [1, 5, 40])
def test_cached_and_fold_copies_run_as_a_whole_and_match(
    perturb: Callable[..., None], batch: int
) -> None:
    net = ResidualMLP(4, 16, 3, m=3)
    perturb(net)
    folded = fold(net)
    x = torch.randn(batch, 4)
    expected = block_by_block(net, x).detach()

    cache_folded_weights(net)
    net.eval()
    with torch.no_grad():
        cached_out, folded_out = net(x), folded(x)
        again = net(x)
    assert net.fold_cache.computed == 1  # computed once, then reused
    assert all(block.fold_cache.computed == 0 for block in net.blocks)  # not block by block
    torch.testing.assert_close(cached_out, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(folded_out, cached_out, rtol=0, atol=0)
    torch.testing.assert_close(again, cached_out, rtol=0, atol=0)


def test_the_network_cache_follows_optimizer_steps(perturb: Callable[..., None]) -> None:
    net = ResidualMLP(4, 16, 2)
    perturb(net)
    cache_folded_weights(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2, fused=True)
    x = torch.randn(3, 4)
    for _ in range(2):
        net.train()
        optimizer.zero_grad()
        net(x).square().sum().backward()
        optimizer.step()
        net.eval()
        with torch.no_grad():
            torch.testing.assert_close(net(x), block_by_block(net, x), rtol=1e-5, atol=1e-5)
    assert net.fold_cache.computed == 2
