"""Tests of fixup_rl.fixup_param_groups: which parameter lands in which optimizer group."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from fixup_rl import ImpalaCNN, ResidualMLP, fixup_param_groups, fixup_scale
from fixup_rl.nn import FixupBlock

LR = 3e-4
MS = [pytest.param(2, id="m=2"), pytest.param(3, id="m=3")]


class TwoTowers(nn.Module):
    """A policy tower and a value tower of different depths, as in an actor-critic."""

    def __init__(self, m: int = 2) -> None:
        super().__init__()
        self.policy = ResidualMLP(5, 16, num_blocks=4, m=m)
        self.value = ResidualMLP(5, 16, num_blocks=16, m=m)


class LookalikeScalars(nn.Module):
    """A module whose ``(1,)`` parameters are named like Fixup scalars but belong to no block."""

    def __init__(self) -> None:
        super().__init__()
        self.bias1a = nn.Parameter(torch.zeros(1))
        self.scale = nn.Parameter(torch.ones(1))
        self.linear = nn.Linear(4, 4)


def lr_of(groups: list[dict], param: nn.Parameter) -> float:
    (group,) = [group for group in groups if any(p is param for p in group["params"])]
    return group["lr"]


def group_of(groups: list[dict], param: nn.Parameter) -> dict:
    (group,) = [group for group in groups if any(p is param for p in group["params"])]
    return group


def fixup_blocks(module: nn.Module) -> list[FixupBlock]:
    return [block for block in module.modules() if isinstance(block, FixupBlock)]


def scalar_ids(module: nn.Module) -> set[int]:
    return {id(p) for block in fixup_blocks(module) for p in block.scalar_parameters()}


@pytest.mark.parametrize(
    "make_module",
    [
        pytest.param(lambda: ResidualMLP(5, 16, num_blocks=3), id="mlp"),
        pytest.param(lambda: ResidualMLP(5, 16, num_blocks=3, m=3), id="mlp-m=3"),
        pytest.param(lambda: ImpalaCNN((3, 8, 8), channels=(4, 8)), id="impala"),
        pytest.param(TwoTowers, id="two_towers"),
        pytest.param(lambda: ResidualMLP(5, 16, num_blocks=3, norm="rezero"), id="rezero"),
        pytest.param(lambda: ResidualMLP(5, 16, num_blocks=3, norm="batchnorm"), id="bn"),
    ],
)
@pytest.mark.parametrize("depth_aware", [False, True], ids=["plain", "depth_aware"])
@pytest.mark.parametrize("adaptive", [True, False], ids=["adaptive", "sgd_like"])
def test_every_parameter_appears_exactly_once(
    make_module: Callable[[], nn.Module], depth_aware: bool, adaptive: bool
) -> None:
    module = make_module()
    groups = fixup_param_groups(
        module, LR, weight_decay=0.01, depth_aware=depth_aware, adaptive=adaptive
    )

    grouped = [p for group in groups for p in group["params"]]
    assert len(grouped) == len({id(p) for p in grouped})
    assert {id(p) for p in grouped} == {id(p) for p in module.parameters()}
    assert len(grouped) == len(list(module.parameters()))
    for group in groups:
        assert group["params"]
        assert group["lr_scale"] == pytest.approx(group["lr"] / LR, rel=1e-12)


@pytest.mark.parametrize("m", MS)
def test_scalars_get_a_smaller_lr_and_no_weight_decay(m: int) -> None:
    net = ResidualMLP(5, 16, num_blocks=3, m=m)
    groups = fixup_param_groups(net, LR, weight_decay=0.01, scalar_lr_scale=0.1)

    scalars = scalar_ids(net)
    assert len(scalars) == 3  # one parameter of 2m + 1 scalars per block
    assert sum(block.scalars.numel() for block in net.blocks) == 3 * (2 * m + 1)
    for group in groups:
        members = {id(p) for p in group["params"]}
        if members & scalars:
            assert members == scalars
            assert group["lr"] == pytest.approx(LR * 0.1)
            assert group["weight_decay"] == 0.0
            assert group["lr_scale"] == pytest.approx(0.1)
        else:
            assert group["lr"] == LR
            assert group["weight_decay"] == 0.01
            assert group["lr_scale"] == 1.0


def test_scalar_lr_scale_is_applied() -> None:
    net = ResidualMLP(5, 16, num_blocks=3)
    groups = fixup_param_groups(net, 1e-3, scalar_lr_scale=0.5)
    assert lr_of(groups, net.blocks[1].scalars) == pytest.approx(5e-4)
    assert lr_of(groups, net.blocks[1].layers[0].weight) == pytest.approx(1e-3)


def test_vector_bias_of_an_ordinary_linear_is_not_a_scalar() -> None:
    net = ResidualMLP(5, 16, num_blocks=3)
    groups = fixup_param_groups(net, LR, weight_decay=0.01)

    assert net.input.bias.shape == (16,)
    group = group_of(groups, net.input.bias)
    assert group["lr"] == LR
    assert group["weight_decay"] == 0.01
    assert id(net.input.bias) not in scalar_ids(net)


@pytest.mark.parametrize("norm", ["rezero", "skipinit"])
def test_gates_of_shape_one_are_not_fixup_scalars(norm: str) -> None:
    net = ResidualMLP(5, 16, num_blocks=3, norm=norm)
    groups = fixup_param_groups(net, LR, weight_decay=0.01, depth_aware=True)

    assert len(groups) == 1
    for block in net.blocks:
        assert block.alpha.shape == (1,)
        group = group_of(groups, block.alpha)
        assert group["lr"] == LR
        assert group["weight_decay"] == 0.01


def test_membership_is_by_module_not_by_name() -> None:
    module = nn.ModuleDict({"net": ResidualMLP(5, 16, num_blocks=3), "odd": LookalikeScalars()})
    groups = fixup_param_groups(module, LR, weight_decay=0.01, depth_aware=True)

    for param in (module["odd"].bias1a, module["odd"].scale):
        assert param.shape == (1,)
        group = group_of(groups, param)
        assert group["lr"] == LR
        assert group["weight_decay"] == 0.01
    assert lr_of(groups, module["net"].blocks[0].scalars) == pytest.approx(LR * 0.1 / 3)


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("num_blocks", [1, 4, 16], ids=lambda n: f"L={n}")
def test_depth_aware_adaptive(m: int, num_blocks: int) -> None:
    net = ResidualMLP(5, 16, num_blocks=num_blocks, m=m)
    groups = fixup_param_groups(net, LR, scalar_lr_scale=0.1, depth_aware=True, adaptive=True)

    for block in net.blocks:
        for param in block.scalar_parameters():
            assert lr_of(groups, param) == pytest.approx(LR * 0.1 / num_blocks)
        for layer in block.layers:
            assert lr_of(groups, layer.weight) == pytest.approx(LR * fixup_scale(num_blocks, m))
    assert lr_of(groups, net.input.weight) == LR
    assert lr_of(groups, net.input.bias) == LR


@pytest.mark.parametrize("m", MS)
def test_depth_aware_sgd_like_keeps_the_branch_weights_at_lr(m: int) -> None:
    net = ResidualMLP(5, 16, num_blocks=9, m=m)
    groups = fixup_param_groups(net, LR, scalar_lr_scale=0.1, depth_aware=True, adaptive=False)

    for block in net.blocks:
        for param in block.scalar_parameters():
            assert lr_of(groups, param) == pytest.approx(LR * 0.1 / 9)
        for layer in block.layers:
            assert lr_of(groups, layer.weight) == LR


def test_adaptive_without_depth_aware_changes_nothing() -> None:
    net = ResidualMLP(5, 16, num_blocks=9)
    groups = fixup_param_groups(net, LR, depth_aware=False, adaptive=True)

    for layer in net.blocks[0].layers:
        assert lr_of(groups, layer.weight) == LR
    assert lr_of(groups, net.blocks[0].scalars) == pytest.approx(LR * 0.1)


@pytest.mark.parametrize("m", MS)
def test_towers_of_different_depths_get_their_own_depth(m: int) -> None:
    towers = TwoTowers(m)
    groups = fixup_param_groups(towers, LR, scalar_lr_scale=0.1, depth_aware=True)

    for tower, depth in ((towers.policy, 4), (towers.value, 16)):
        for block in tower.blocks:
            assert lr_of(groups, block.scalars) == pytest.approx(LR * 0.1 / depth)
            for layer in block.layers:
                assert lr_of(groups, layer.weight) == pytest.approx(LR * fixup_scale(depth, m))


def test_impala_cnn_uses_its_total_number_of_blocks() -> None:
    net = ImpalaCNN((3, 8, 8), channels=(4, 8, 8), blocks_per_stage=3)
    groups = fixup_param_groups(net, LR, depth_aware=True)

    for block in net.blocks:
        assert lr_of(groups, block.scalars) == pytest.approx(LR * 0.1 / 9)
        assert lr_of(groups, block.layers[0].weight) == pytest.approx(LR * fixup_scale(9, 2))
    assert lr_of(groups, net.stems[0][0].weight) == LR


def test_groups_are_named() -> None:
    net = ResidualMLP(5, 16, num_blocks=4)
    groups = fixup_param_groups(net, LR, depth_aware=True)
    assert {group["name"] for group in groups} == {
        "weights",
        "fixup_scalars",
        "fixup_branch_weights",
    }


@pytest.mark.parametrize(
    "optimizer_class",
    [torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD, torch.optim.RMSprop],
    ids=["adam", "adamw", "sgd", "rmsprop"],
)
@pytest.mark.parametrize("depth_aware", [False, True], ids=["plain", "depth_aware"])
def test_groups_drive_a_torch_optimizer(
    optimizer_class: type[torch.optim.Optimizer], depth_aware: bool
) -> None:
    towers = TwoTowers()
    groups = fixup_param_groups(towers, 1e-2, weight_decay=1e-4, depth_aware=depth_aware)
    optimizer = optimizer_class(groups, lr=1e-2)
    before = [p.detach().clone() for p in towers.parameters()]

    x = torch.randn(32, 5)
    loss = towers.policy(x).pow(2).mean() + (towers.value(x) - 1).pow(2).mean()
    loss.backward()
    optimizer.step()

    for group in optimizer.param_groups:
        assert group["lr"] == pytest.approx(1e-2 * group["lr_scale"])
    changed = [not torch.equal(b, p) for b, p in zip(before, towers.parameters(), strict=True)]
    assert any(changed)
    # A block's last scalar bias has a gradient even at init, so the scalar group moves too.
    for tower in (towers.policy, towers.value):
        assert not torch.equal(tower.blocks[0].bias_out[-1], torch.zeros(1))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        pytest.param({"lr": 0}, "lr", id="lr=0"),
        pytest.param({"lr": -1}, "lr", id="lr=-1"),
        pytest.param({"lr": float("nan")}, "lr", id="lr=nan"),
        pytest.param({"lr": "1e-3"}, "lr", id="lr_string"),
        pytest.param({"weight_decay": -1}, "weight_decay", id="weight_decay=-1"),
        pytest.param({"scalar_lr_scale": 0}, "scalar_lr_scale", id="scalar_lr_scale=0"),
        pytest.param({"scalar_lr_scale": -0.1}, "scalar_lr_scale", id="scalar_lr_scale<0"),
        pytest.param({"module": "x"}, "module", id="module='x'"),
        pytest.param({"module": [nn.Linear(2, 2)]}, "module", id="module_list_of_layers"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(kwargs: dict, name: str) -> None:
    arguments = {"module": ResidualMLP(5, 16, num_blocks=2), "lr": LR, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        fixup_param_groups(**arguments)


def test_weight_decay_zero_is_accepted() -> None:
    groups = fixup_param_groups(ResidualMLP(5, 16, num_blocks=2), LR, weight_decay=0)
    assert all(group["weight_decay"] == 0.0 for group in groups)
