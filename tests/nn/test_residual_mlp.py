"""Tests of fixup_rl.ResidualMLP with every residual scheme of fixup_rl.NORMS."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import NORMS, ResidualMLP, fixup_scale
from fixup_rl.nn import FixupBlock, PlainBlock, ReZeroBlock, SkipInitBlock

MS = [pytest.param(2, id="m=2"), pytest.param(3, id="m=3")]
PER_SAMPLE_NORMS = [norm for norm in NORMS if norm != "batchnorm"]
MODES = ["train", "eval"]
STATES = ["init", "perturbed"]

# Measured by conftest.max_batch_dependence: at most 1e-6 of max(1, output scale).
PER_SAMPLE_TOLERANCE = 1e-6


def block_inputs(net: ResidualMLP, x: torch.Tensor) -> list[torch.Tensor]:
    """Run ``net`` on ``x`` and return the input that reached each of its blocks."""
    inputs: list[torch.Tensor] = []
    hooks = [
        block.register_forward_pre_hook(lambda _, args: inputs.append(args[0]))
        for block in net.blocks
    ]
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    return inputs


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("activation_fn", [nn.ReLU, nn.Tanh, nn.ELU], ids=["relu", "tanh", "elu"])
def test_every_norm_builds_and_maps_in_dim_to_width(
    norm: str, m: int, activation_fn: type[nn.Module]
) -> None:
    net = ResidualMLP(5, 24, num_blocks=3, m=m, norm=norm, activation_fn=activation_fn)
    x = torch.randn(7, 5)

    out = net(x)
    assert out.shape == (7, 24)
    assert torch.isfinite(out).all()
    assert net.out_dim == 24
    assert isinstance(net.blocks, nn.ModuleList)
    assert len(net.blocks) == 3
    for block, h in zip(net.blocks, block_inputs(net, x), strict=True):
        assert block.branch(h).shape == h.shape


def test_default_arguments_are_a_two_layer_fixup_network_with_relu() -> None:
    net = ResidualMLP(3, 8, num_blocks=2)
    for block in net.blocks:
        assert isinstance(block, FixupBlock)
        assert block.m == 2
        assert block.num_blocks == 2
        assert isinstance(block.activation, nn.ReLU)


@pytest.mark.parametrize("norm", NORMS)
def test_input_projection_has_plain_he_init(norm: str) -> None:
    # 16 blocks: a depth-scaled projection would have a quarter of the He std.
    net = ResidualMLP(512, 64, num_blocks=16, norm=norm)
    assert net.input.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
    assert torch.equal(net.input.bias, torch.zeros(64))


@pytest.mark.parametrize("m", MS)
def test_fixup_init_of_every_block(m: int) -> None:
    num_blocks = 4
    net = ResidualMLP(16, 512, num_blocks=num_blocks, m=m, norm="fixup")

    expected_std = math.sqrt(2 / 512) * fixup_scale(num_blocks, m)
    for block in net.blocks:
        assert isinstance(block, FixupBlock)
        for layer in block.layers[:-1]:
            assert layer.weight.std().item() == pytest.approx(expected_std, rel=0.05)
        assert not block.layers[-1].weight.any()
        for bias in [*block.bias_in, *block.bias_out]:
            assert bias.item() == 0.0
        assert block.scale.shape == (1,)
        assert block.scale.item() == 1.0


def test_none_uses_he_init_everywhere() -> None:
    net = ResidualMLP(16, 512, num_blocks=3, m=2, norm="none")
    for block in net.blocks:
        assert isinstance(block, PlainBlock)
        for layer in block.layers:
            assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)
            assert not layer.bias.any()
        assert all(param.shape != (1,) for param in block.parameters())


@pytest.mark.parametrize(
    ("norm", "block_class"),
    [
        pytest.param("rezero", ReZeroBlock, id="rezero"),
        pytest.param("skipinit", SkipInitBlock, id="skipinit"),
    ],
)
def test_gates_start_at_zero(norm: str, block_class: type[nn.Module]) -> None:
    net = ResidualMLP(16, 512, num_blocks=3, norm=norm)
    for block in net.blocks:
        assert isinstance(block, block_class)
        assert block.alpha.shape == (1,)
        assert block.alpha.item() == 0.0
        for layer in block.layers:
            assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 512), rel=0.05)


@pytest.mark.parametrize("norm", ["fixup", "rezero", "skipinit"])
@pytest.mark.parametrize("m", MS)
def test_every_branch_is_exactly_zero_at_init(norm: str, m: int) -> None:
    net = ResidualMLP(6, 32, num_blocks=5, m=m, norm=norm)
    inputs = block_inputs(net, torch.randn(16, 6))

    assert len(inputs) == 5
    for block, h in zip(net.blocks, inputs, strict=True):
        assert h.abs().max() > 0
        assert torch.equal(block.branch(h), torch.zeros_like(h))


@pytest.mark.parametrize("norm", PER_SAMPLE_NORMS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("m", MS)
def test_each_sample_is_computed_independently_of_its_batch(
    norm: str, mode: str, state: str, m: int, perturb: Callable, batch_dependence: Callable
) -> None:
    net = ResidualMLP(8, 64, num_blocks=3, m=m, norm=norm)
    if state == "perturbed":
        perturb(net)
    net.train(mode == "train")
    batch = torch.randn(1024, 8)

    assert batch_dependence(net, batch, range(0, 1024, 73)) <= PER_SAMPLE_TOLERANCE


@pytest.mark.parametrize("state", STATES)
def test_batchnorm_in_train_mode_fails_the_per_sample_check(
    state: str, perturb: Callable, batch_dependence: Callable
) -> None:
    # The negative control: the same check must notice a network that mixes its batch.
    net = ResidualMLP(8, 64, num_blocks=3, norm="batchnorm")
    if state == "perturbed":
        perturb(net)
    net.train()
    batch = torch.randn(1024, 8)

    assert batch_dependence(net, batch, range(0, 1024, 73)) > 1e-3

    # Also when the row sits in another full batch rather than alone.
    other = torch.cat([batch[:1], torch.randn(1023, 8)])
    with torch.no_grad():
        assert (net(batch)[0] - net(other)[0]).abs().max() > 1e-3


@pytest.mark.parametrize("state", STATES)
def test_batchnorm_in_eval_mode_is_per_sample(
    state: str, perturb: Callable, batch_dependence: Callable
) -> None:
    net = ResidualMLP(8, 64, num_blocks=3, norm="batchnorm")
    if state == "perturbed":
        perturb(net)
    net.eval()

    assert batch_dependence(net, torch.randn(1024, 8), range(0, 1024, 73)) <= PER_SAMPLE_TOLERANCE


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("norm", ["fixup", "rezero", "skipinit"])
def test_zero_init_does_not_stall_learning(norm: str, m: int) -> None:
    net = ResidualMLP(6, 32, num_blocks=4, m=m, norm=norm)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = torch.randn(64, 6), torch.randn(64, 32)
    weights = [param for param in net.parameters() if param.dim() >= 2]

    nn.functional.mse_loss(net(x), target).backward()
    if norm == "fixup":
        # At init the zero last layer blocks the gradient of every earlier branch layer.
        for block in net.blocks:
            for layer in block.layers[:-1]:
                assert not layer.weight.grad.any()
    optimizer.step()

    optimizer.zero_grad()
    nn.functional.mse_loss(net(x), target).backward()
    for weight in weights:
        assert weight.grad is not None
        assert weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        pytest.param({"in_dim": 0}, "in_dim", id="in_dim=0"),
        pytest.param({"width": 0}, "width", id="width=0"),
        pytest.param({"width": 8.0}, "width", id="width=8.0"),
        pytest.param({"num_blocks": 0}, "num_blocks", id="num_blocks=0"),
        pytest.param({"num_blocks": 2.5}, "num_blocks", id="num_blocks=2.5"),
        pytest.param({"num_blocks": True}, "num_blocks", id="num_blocks=True"),
        pytest.param({"m": 1}, "m", id="m=1"),
        pytest.param({"m": "2"}, "m", id="m='2'"),
        pytest.param({"norm": "foo"}, "norm", id="norm='foo'"),
        pytest.param({"norm": None}, "norm", id="norm=None"),
        pytest.param({"activation_fn": nn.ReLU()}, "activation_fn", id="activation_instance"),
        pytest.param({"activation_fn": "relu"}, "activation_fn", id="activation_string"),
        pytest.param({"activation_fn": torch.relu}, "activation_fn", id="activation_function"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(kwargs: dict, name: str) -> None:
    arguments = {"in_dim": 4, "width": 8, "num_blocks": 2, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        ResidualMLP(**arguments)


def test_norm_error_lists_the_accepted_names() -> None:
    with pytest.raises(ValueError, match="'fixup', 'none', 'batchnorm'"):
        ResidualMLP(4, 8, 2, norm="foo")


@pytest.mark.parametrize(
    "shape", [(3, 5), (3, 4, 1), (5,)], ids=["width=5", "extra_dim", "unbatched_width=5"]
)
def test_wrong_input_width_raises_value_error(shape: tuple[int, ...]) -> None:
    net = ResidualMLP(4, 8, num_blocks=2)
    with pytest.raises(ValueError, match=r"ResidualMLP expects inputs of shape \(batch, 4\)"):
        net(torch.randn(shape))
