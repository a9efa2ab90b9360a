"""The network-speed benchmark builds comparable networks and times them."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from fixup_rl.bench.network_speed import (
    IN_DIM,
    VARIANTS,
    SpeedConfig,
    build_network,
    linear_flops,
    measure_network_speed,
)
from fixup_rl.bench.timing import clock_name, time_interleaved


def linear_shapes(net: nn.Module) -> list[tuple[int, ...]]:
    shapes = []
    for module in net.modules():
        if isinstance(module, nn.Linear):
            shapes.append(tuple(module.weight.shape))
    return shapes


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_has_the_mlps_linear_layers(variant: str) -> None:
    mlp = build_network("mlp", depth=3, width=16)
    net = build_network(variant, depth=3, width=16)
    assert linear_shapes(net) == linear_shapes(mlp) == [(16, IN_DIM)] + [(16, 16)] * 6
    assert net(torch.randn(4, IN_DIM)).shape == (4, 16)


def test_linear_flops_counts_every_multiply_add() -> None:
    # 17 -> 8, then 2 blocks of two 8x8 layers: (17*8 + 4*64) multiply-adds per sample.
    assert linear_flops(depth=2, width=8, batch=3) == 2 * 3 * (17 * 8 + 4 * 64)


def test_time_interleaved_reports_each_call() -> None:
    calls = {"fast": lambda: None, "slow": lambda: sum(range(20_000))}
    seconds = time_interleaved(calls, torch.device("cpu"), rounds=3, target_seconds=0.002)
    assert set(seconds) == {"fast", "slow"}
    assert 0 < seconds["fast"] < seconds["slow"]


def test_clock_follows_the_thread_setting() -> None:
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert clock_name(torch.device("cpu")) == "thread CPU time"
        torch.set_num_threads(2)
        assert clock_name(torch.device("cpu")) == "wall time"
    finally:
        torch.set_num_threads(threads)


def test_measure_network_speed_rows() -> None:
    config = SpeedConfig(batch_sizes=(1, 4), depths=(1,), width=8, rounds=1, matmul_size=32)
    result = measure_network_speed(config)

    assert result["matmul_gflops"] > 0
    assert [(row["batch"], row["mode"]) for row in result["rows"]] == [
        (1, "inference"),
        (1, "train"),
        (4, "inference"),
        (4, "train"),
    ]
    for row in result["rows"]:
        expected = set(VARIANTS) - (
            {"fixup_folded", "fixup_cached"} if row["mode"] == "train" else set()
        )
        assert set(row["seconds"]) == expected
        assert row["ratio_to_mlp"]["mlp"] == 1.0
        assert all(math.isfinite(v) and v > 0 for v in row["gflops"].values())
