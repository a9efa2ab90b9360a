"""Tests of fixup_rl.ImpalaCNN with every residual scheme of fixup_rl.NORMS."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import NORMS, ImpalaCNN, fixup_scale
from fixup_rl.nn import FixupBlock

MS = [pytest.param(2, id="m=2"), pytest.param(3, id="m=3")]
PER_SAMPLE_NORMS = [norm for norm in NORMS if norm != "batchnorm"]
MODES = ["train", "eval"]
STATES = ["init", "perturbed"]
OBSERVATION_SHAPE = (3, 16, 16)

# Measured by conftest.max_batch_dependence: at most 1e-6 of max(1, output scale).
PER_SAMPLE_TOLERANCE = 1e-6


def small_cnn(**kwargs) -> ImpalaCNN:
    arguments = {"channels": (8, 16), "blocks_per_stage": 1, **kwargs}
    return ImpalaCNN(OBSERVATION_SHAPE, **arguments)


def block_inputs(net: ImpalaCNN, x: torch.Tensor) -> list[torch.Tensor]:
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
def test_every_norm_builds_and_gives_finite_features(norm: str, m: int) -> None:
    net = small_cnn(blocks_per_stage=2, m=m, norm=norm)
    x = torch.randn(5, *OBSERVATION_SHAPE)

    out = net(x)
    # Two stages of stride-2 pooling: 16x16 -> 8x8 -> 4x4, with 16 channels.
    assert net.out_dim == 16 * 4 * 4
    assert out.shape == (5, net.out_dim)
    assert torch.isfinite(out).all()
    assert isinstance(net.blocks, nn.ModuleList)
    assert len(net.blocks) == 4
    for block, h in zip(net.blocks, block_inputs(net, x), strict=True):
        assert block.branch(h).shape == h.shape


def test_default_architecture_on_atari_sized_frames() -> None:
    net = ImpalaCNN((4, 84, 84))
    # Channels (16, 32, 32): 84 -> 42 -> 21 -> 11 pixels across.
    assert net.out_dim == 32 * 11 * 11
    assert net(torch.rand(2, 4, 84, 84)).shape == (2, 32 * 11 * 11)
    assert len(net.blocks) == 6
    assert all(isinstance(block, FixupBlock) for block in net.blocks)


@pytest.mark.parametrize("m", MS)
def test_fixup_init_uses_the_total_number_of_blocks(m: int) -> None:
    net = ImpalaCNN(OBSERVATION_SHAPE, channels=(64, 64), blocks_per_stage=2, m=m)
    assert net.num_blocks == 4

    expected_std = math.sqrt(2 / (64 * 9)) * fixup_scale(4, m)
    for block in net.blocks:
        assert isinstance(block, FixupBlock)
        assert block.num_blocks == 4
        for layer in block.layers[:-1]:
            assert layer.weight.std().item() == pytest.approx(expected_std, rel=0.05)
        assert not block.layers[-1].weight.any()
        assert block.scalar_parameters() == [block.scalars]
        assert block.scale.item() == 1.0
        assert all(bias.item() == 0.0 for bias in [*block.bias_in, *block.bias_out])


def test_stem_convolutions_have_plain_he_init() -> None:
    net = ImpalaCNN(OBSERVATION_SHAPE, channels=(64, 64), blocks_per_stage=8)
    first, second = (stem[0] for stem in net.stems)
    assert first.weight.std().item() == pytest.approx(math.sqrt(2 / (3 * 9)), rel=0.05)
    assert second.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)
    assert not first.bias.any()
    assert not second.bias.any()


@pytest.mark.parametrize("norm", ["fixup", "rezero", "skipinit"])
@pytest.mark.parametrize("m", MS)
def test_every_branch_is_exactly_zero_at_init(norm: str, m: int) -> None:
    net = small_cnn(blocks_per_stage=2, m=m, norm=norm)
    inputs = block_inputs(net, torch.randn(4, *OBSERVATION_SHAPE))

    assert len(inputs) == 4
    for block, h in zip(net.blocks, inputs, strict=True):
        assert h.abs().max() > 0
        assert torch.equal(block.branch(h), torch.zeros_like(h))


@pytest.mark.parametrize("norm", PER_SAMPLE_NORMS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("state", STATES)
def test_each_image_is_computed_independently_of_its_batch(
    norm: str, mode: str, state: str, perturb: Callable, batch_dependence: Callable
) -> None:
    net = small_cnn(norm=norm)
    if state == "perturbed":
        perturb(net)
    net.train(mode == "train")
    batch = torch.randn(64, *OBSERVATION_SHAPE)

    assert batch_dependence(net, batch, range(0, 64, 9)) <= PER_SAMPLE_TOLERANCE


@pytest.mark.parametrize("state", STATES)
def test_batchnorm_in_train_mode_fails_the_per_sample_check(
    state: str, perturb: Callable, batch_dependence: Callable
) -> None:
    net = small_cnn(norm="batchnorm")
    if state == "perturbed":
        perturb(net)
    net.train()
    batch = torch.randn(64, *OBSERVATION_SHAPE)

    assert batch_dependence(net, batch, range(0, 64, 9)) > 1e-3


@pytest.mark.parametrize("m", MS)
def test_zero_init_does_not_stall_learning(m: int) -> None:
    net = small_cnn(blocks_per_stage=2, m=m)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, target = torch.randn(16, *OBSERVATION_SHAPE), torch.randn(16, net.out_dim)
    weights = [param for param in net.parameters() if param.dim() >= 2]

    nn.functional.mse_loss(net(x), target).backward()
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
        pytest.param({"observation_shape": (16, 16)}, "observation_shape", id="shape_2d"),
        pytest.param({"observation_shape": (1, 3, 16, 16)}, "observation_shape", id="shape_4d"),
        pytest.param({"observation_shape": (0, 16, 16)}, "observation_shape", id="shape_zero"),
        pytest.param({"observation_shape": (3, 16.0, 16)}, "observation_shape", id="shape_float"),
        pytest.param({"channels": ()}, "channels", id="channels=()"),
        pytest.param({"channels": (8, 0)}, "channels", id="channels_zero"),
        pytest.param({"channels": (8, 2.5)}, "channels", id="channels_float"),
        pytest.param({"blocks_per_stage": 0}, "blocks_per_stage", id="blocks_per_stage=0"),
        pytest.param({"blocks_per_stage": 2.5}, "blocks_per_stage", id="blocks_per_stage=2.5"),
        pytest.param({"m": 1}, "m", id="m=1"),
        pytest.param({"norm": "foo"}, "norm", id="norm='foo'"),
        pytest.param({"activation_fn": nn.ReLU()}, "activation_fn", id="activation_instance"),
        pytest.param({"activation_fn": "relu"}, "activation_fn", id="activation_string"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(kwargs: dict, name: str) -> None:
    arguments = {"observation_shape": OBSERVATION_SHAPE, "channels": (8,), **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        ImpalaCNN(**arguments)


@pytest.mark.parametrize(
    "shape",
    [(2, 3, 16, 15), (2, 4, 16, 16), (3, 16, 16), (2, 1, 3, 16, 16)],
    ids=["width=15", "channels=4", "unbatched", "extra_dim"],
)
def test_wrong_input_shape_raises_value_error(shape: tuple[int, ...]) -> None:
    net = small_cnn()
    with pytest.raises(ValueError, match=r"ImpalaCNN expects inputs of shape \(batch, 3, 16, 16\)"):
        net(torch.randn(shape))
