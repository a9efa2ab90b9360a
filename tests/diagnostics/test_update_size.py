"""The size of a learning step: flat with the depth-aware groups, growing or blowing up without."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from fixup_rl import fixup_param_groups
from fixup_rl.diagnostics import output_change, variant_param_groups
from fixup_rl.diagnostics.networks import (
    MLP_INPUT_DIM,
    build_mlp,
    fixup_scalars,
    remove_depth_scaling_,
)
from fixup_rl.diagnostics.update_size import LEARNING_RATES, frozen, variant_output_change
from fixup_rl.scale import fixup_scale

OPTIMIZERS = ("sgd", "adam")


def per_lr(report: dict[str, Any], optimizer: str, variant: str) -> dict[int, float]:
    rows = report["update_size"]
    return {
        row["depth"]: row["output_change_per_lr"]
        for row in rows
        if row["optimizer"] == optimizer and row["variant"] == variant
    }


def batch(width: int, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return (
        torch.randn(size, MLP_INPUT_DIM, generator=generator),
        torch.randn(size, width, generator=generator),
    )


def step_size(net: torch.nn.Module, variant: str, optimizer: str, lr: float, width: int) -> float:
    inputs, targets = batch(width)
    return variant_output_change(net, variant, optimizer, lr, inputs, targets) / lr


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_depth_aware_step_stays_within_a_factor_2_from_4_to_1024_blocks(
    report: dict[str, Any], optimizer: str
) -> None:
    steps = per_lr(report, optimizer, "depth_aware")
    assert sorted(steps) == [4, 16, 64, 256, 1024]
    assert all(math.isfinite(step) and step > 0 for step in steps.values())
    assert max(steps.values()) <= 2 * min(steps.values()), steps


def test_sgd_on_the_weights_alone_is_flat(report: dict[str, Any]) -> None:
    steps = per_lr(report, "sgd", "weights_only")
    assert max(steps.values()) <= 2 * min(steps.values()), steps


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_official_recipe_grows_with_depth(report: dict[str, Any], optimizer: str) -> None:
    # SGD: the 1024 blocks' scalar biases all shift the output; Adam: every weight moves by
    # about η whatever its gradient, ignoring the L^-1/2 of the branches.
    steps = per_lr(report, optimizer, "official")
    assert steps[1024] > 10 * steps[4], steps


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_zero_init_without_depth_scaling_grows(report: dict[str, Any], optimizer: str) -> None:
    steps = per_lr(report, optimizer, "no_scaling")
    assert max(steps) == 256  # not trained deeper (see NO_SCALING_MAX_DEPTH)
    assert steps[256] > 10 * steps[4], steps
    assert steps[4] > per_lr(report, optimizer, "weights_only")[4]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_none_blows_up_or_overflows(report: dict[str, Any], optimizer: str) -> None:
    steps = per_lr(report, optimizer, "none")
    fixup = per_lr(report, optimizer, "depth_aware")
    assert steps[4] > 3 * fixup[4]
    for depth in (64, 256, 1024):
        assert not math.isfinite(steps[depth]) or steps[depth] > 1e6 * fixup[depth], steps
    assert math.isnan(steps[1024])  # inf or nan at init already: no step to measure


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("depth", [4, 64])
def test_learning_rates_measure_the_linear_regime(optimizer: str, depth: int) -> None:
    # Output change / η does not depend on η: ten times η changes the ratio by under 2%. (A
    # tenth of η is no check at this width: the SGD updates start to vanish in float32 rounding.)
    lr = LEARNING_RATES[optimizer]
    ratios = []
    for scale in (1.0, 10.0):
        net = build_mlp("fixup", depth, width=32, seed=0)
        ratios.append(step_size(net, "depth_aware", optimizer, lr * scale, width=32))
    assert ratios[1] == pytest.approx(ratios[0], rel=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_depth_aware_step_is_flat_at_the_default_width(optimizer: str) -> None:
    # The report's defaults: width 256, 4 and 1024 blocks (134M parameters).
    lr = LEARNING_RATES[optimizer]
    steps = []
    for depth in (4, 1024):
        net = build_mlp("fixup", depth, width=256, seed=0)
        steps.append(step_size(net, "depth_aware", optimizer, lr, width=256))
        del net
    assert max(steps) <= 2 * min(steps), steps


def test_output_change_is_zero_without_a_step_and_nan_after_overflow() -> None:
    net = build_mlp("fixup", 4, width=8, seed=0)
    inputs, targets = batch(8)
    groups = [{"params": list(net.parameters()), "lr": 0.0}]
    assert output_change(net, inputs, targets, groups, "sgd") == 0.0

    deep = build_mlp("none", 256, width=8, seed=0)
    groups = variant_param_groups(deep, "none", "sgd", 1e-6)
    assert math.isnan(output_change(deep, inputs, targets, groups, "sgd"))


def test_variant_groups() -> None:
    net = build_mlp("fixup", 16, width=8, seed=0)
    scalars = {id(param) for param in fixup_scalars(net)}
    (weights,) = variant_param_groups(net, "weights_only", "sgd", 0.1)
    assert weights["lr"] == 0.1
    assert scalars.isdisjoint(id(param) for param in weights["params"])
    assert len(weights["params"]) + len(scalars) == len(list(net.parameters()))

    official = variant_param_groups(net, "official", "adam", 0.1)
    assert [g["lr"] for g in official] == [g["lr"] for g in fixup_param_groups(net, 0.1)]
    for optimizer, adaptive in (("sgd", False), ("adam", True)):
        groups = variant_param_groups(net, "depth_aware", optimizer, 0.1)
        expected = fixup_param_groups(net, 0.1, depth_aware=True, adaptive=adaptive)
        assert [g["lr"] for g in groups] == [g["lr"] for g in expected]


def test_frozen_restores_requires_grad() -> None:
    net = build_mlp("fixup", 2, width=4, seed=0)
    scalars = fixup_scalars(net)
    scalars[0].requires_grad_(False)
    with frozen(scalars):
        assert not any(param.requires_grad for param in scalars)
    assert [param.requires_grad for param in scalars] == [False] + [True] * (len(scalars) - 1)


def test_removing_the_depth_scaling_gives_he_init_and_keeps_the_last_layer_zero() -> None:
    net = build_mlp("fixup", 64, width=8, seed=0)
    scaled = [block.layers[0].weight.detach().clone() for block in net.blocks]
    remove_depth_scaling_(net)
    for block, before in zip(net.blocks, scaled, strict=True):
        assert torch.count_nonzero(block.layers[-1].weight) == 0
        torch.testing.assert_close(block.layers[0].weight * fixup_scale(64, 2), before)
