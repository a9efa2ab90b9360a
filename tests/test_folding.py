"""Tests of fixup_rl.fold: Fixup blocks replaced by plain blocks computing the same function."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import ImpalaCNN, ResidualMLP, fold
from fixup_rl.nn import FixupBlock, PlainBlock

NETWORKS = [
    pytest.param(lambda: ResidualMLP(6, 32, num_blocks=4, m=2), (6,), id="mlp-m=2"),
    pytest.param(lambda: ResidualMLP(6, 32, num_blocks=4, m=3), (6,), id="mlp-m=3"),
    pytest.param(
        lambda: ResidualMLP(6, 32, num_blocks=3, activation_fn=nn.Tanh), (6,), id="mlp-tanh"
    ),
    pytest.param(
        lambda: ImpalaCNN((3, 12, 12), channels=(8, 16), blocks_per_stage=2),
        (3, 12, 12),
        id="impala-m=2",
    ),
    pytest.param(
        lambda: ImpalaCNN((3, 12, 12), channels=(8, 16), blocks_per_stage=2, m=3),
        (3, 12, 12),
        id="impala-m=3",
    ),
]


def assert_same_function(actual: torch.Tensor, expected: torch.Tensor, rtol: float) -> None:
    """``actual`` equals ``expected`` within ``rtol`` of the largest expected magnitude."""
    scale = expected.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=rtol * scale)


def fixup_scalars(module: nn.Module) -> list[nn.Parameter]:
    blocks = [block for block in module.modules() if isinstance(block, FixupBlock)]
    return [param for block in blocks for param in block.scalar_parameters()]


@pytest.mark.parametrize(("make_net", "input_shape"), NETWORKS)
def test_every_fixup_block_becomes_a_plain_block(make_net: Callable, input_shape: tuple) -> None:
    net = make_net()
    folded = fold(net)

    assert type(folded) is type(net)
    assert not any(isinstance(module, FixupBlock) for module in folded.modules())
    assert len(folded.blocks) == len(net.blocks)
    for block in folded.blocks:
        assert isinstance(block, PlainBlock)
        assert all(layer.bias is not None for layer in block.layers)
    assert all(param.shape != (1,) for param in folded.parameters())


@pytest.mark.parametrize(("make_net", "input_shape"), NETWORKS)
@pytest.mark.parametrize("state", ["init", "perturbed"])
def test_folded_network_computes_the_same_function(
    make_net: Callable, input_shape: tuple, state: str, perturb: Callable
) -> None:
    net = make_net()
    if state == "perturbed":
        perturb(net)
        assert all(param.any() for param in fixup_scalars(net))
    x = torch.randn(16, *input_shape)

    with torch.no_grad():
        expected = net(x)
    assert_same_function(fold(net)(x), expected, rtol=1e-5)


def test_folded_float64_network_keeps_float64_precision(perturb: Callable) -> None:
    net = ResidualMLP(6, 32, num_blocks=4).double()
    perturb(net)
    x = torch.randn(16, 6, dtype=torch.float64)

    folded = fold(net)
    assert all(param.dtype == torch.float64 for param in folded.parameters())
    with torch.no_grad():
        expected = net(x)
    assert_same_function(folded(x), expected, rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("m", [2, 3], ids=["m=2", "m=3"])
def test_a_single_block_folds_into_a_plain_block(kind: str, m: int, perturb: Callable) -> None:
    block = FixupBlock(8, num_blocks=4, m=m, kind=kind)
    perturb(block)
    x = torch.randn(4, 8) if kind == "linear" else torch.randn(4, 8, 5, 5)

    folded = fold(block)
    assert isinstance(folded, PlainBlock)
    with torch.no_grad():
        expected = block(x)
    assert_same_function(folded(x), expected, rtol=1e-5)
    assert_same_function(block.folded()(x), expected, rtol=1e-5)


@pytest.mark.parametrize(("make_net", "input_shape"), NETWORKS)
def test_folded_copy_is_frozen_in_eval_mode(make_net: Callable, input_shape: tuple) -> None:
    folded = fold(make_net())

    assert all(not module.training for module in folded.modules())
    assert all(not param.requires_grad for param in folded.parameters())


@pytest.mark.parametrize(("make_net", "input_shape"), NETWORKS)
def test_original_is_unchanged_and_still_trains(
    make_net: Callable, input_shape: tuple, perturb: Callable
) -> None:
    net = make_net()
    perturb(net)
    state_before = {name: value.clone() for name, value in net.state_dict().items()}
    blocks_before = list(net.blocks)

    folded = fold(net)

    state_after = net.state_dict()
    assert state_after.keys() == state_before.keys()
    for name, value in state_before.items():
        assert torch.equal(state_after[name], value), name
    assert list(net.blocks) == blocks_before
    assert all(isinstance(block, FixupBlock) for block in net.blocks)
    assert all(module.training for module in net.modules())
    assert all(param.requires_grad for param in net.parameters())
    folded_ids = {id(p) for p in folded.parameters()}
    assert not folded_ids & {id(p) for p in net.parameters()}

    # One optimizer step changes the original, and not the folded snapshot.
    x = torch.randn(8, *input_shape)
    with torch.no_grad():
        folded_before = folded(x)
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-2)
    net(x).pow(2).mean().backward()
    optimizer.step()
    assert all(param.grad is not None for param in net.parameters())
    assert any(not torch.equal(state_before[name], value) for name, value in net.named_parameters())
    assert torch.equal(folded(x), folded_before)


@pytest.mark.parametrize("activation_fn", [nn.PReLU, nn.ReLU], ids=["prelu", "relu"])
def test_folding_a_block_leaves_its_activation_alone(activation_fn: type[nn.Module]) -> None:
    # A learnable activation must not be shared with, frozen by, or put in eval mode by the
    # folded copy.
    block = FixupBlock(8, num_blocks=2, activation_fn=activation_fn)
    folded = fold(block)

    assert folded.activation is not block.activation
    assert block.training
    assert block.activation.training
    assert all(param.requires_grad for param in block.parameters())


def test_modules_around_the_network_are_kept() -> None:
    # As in an SB3 policy: a feature extractor followed by a head.
    model = nn.Sequential(ResidualMLP(6, 32, num_blocks=3), nn.Linear(32, 2))
    with torch.no_grad():
        model[0].blocks[0].scale.fill_(0.5)
        model[0].blocks[0].layers[-1].weight.normal_()
    x = torch.randn(8, 6)

    folded = fold(model)
    assert isinstance(folded, nn.Sequential)
    assert isinstance(folded[1], nn.Linear)
    assert all(isinstance(block, PlainBlock) for block in folded[0].blocks)
    with torch.no_grad():
        expected = model(x)
    assert_same_function(folded(x), expected, rtol=1e-5)


@pytest.mark.parametrize("norm", ["none", "batchnorm", "layernorm", "rezero", "skipinit"])
def test_networks_without_fixup_blocks_are_copied_as_they_are(norm: str) -> None:
    net = ResidualMLP(6, 32, num_blocks=3, norm=norm).eval()
    x = torch.randn(8, 6)

    folded = fold(net)
    assert [type(block) for block in folded.blocks] == [type(block) for block in net.blocks]
    with torch.no_grad():
        assert torch.equal(folded(x), net(x))


@pytest.mark.parametrize("module", ["x", None, [nn.Linear(2, 2)]], ids=["str", "none", "list"])
def test_non_modules_raise_value_error(module: object) -> None:
    with pytest.raises(ValueError, match=r"^module must be a torch\.nn\.Module"):
        fold(module)
