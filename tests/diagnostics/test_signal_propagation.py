"""Signal propagation at init: Fixup flat and silent at every depth, "none" overflowing."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from fixup_rl import NORMS, ImpalaCNN, ResidualMLP
from fixup_rl.diagnostics import signal_propagation
from fixup_rl.diagnostics.networks import IMAGE_SHAPE, build_cnn, build_mlp

MEASURES = ("output_std", "input_grad_norm", "first_layer_grad_norm")


def of(rows: list[dict[str, Any]], norm: str) -> list[dict[str, Any]]:
    return [row for row in rows if row["norm"] == norm]


def test_report_measures_every_norm_at_the_default_depths(report: dict[str, Any]) -> None:
    rows = report["signal_propagation"]["mlp"]
    assert [(r["norm"], r["depth"]) for r in of(rows, "fixup")] == [
        ("fixup", depth) for depth in (4, 16, 64, 256, 1024)
    ]
    assert {row["norm"] for row in rows} == set(NORMS)
    for row in rows:
        assert len(row["branch_norms"]) == len(row["stream_norms"]) == row["depth"]


@pytest.mark.parametrize("network", ["mlp", "cnn"])
def test_fixup_output_and_gradients_do_not_depend_on_depth(
    report: dict[str, Any], network: str
) -> None:
    # Every Fixup block starts as the identity, and the networks of every depth share their
    # input layers (same seed): the output and both gradients are the same at every depth.
    fixup = of(report["signal_propagation"][network], "fixup")
    for measure in MEASURES:
        values = [row[measure] for row in fixup]
        assert all(0.1 < value < 10 for value in values), (measure, values)
        assert max(values) <= 1.01 * min(values), (measure, values)


@pytest.mark.parametrize("network", ["mlp", "cnn"])
@pytest.mark.parametrize("norm", ["fixup", "rezero", "skipinit"])
def test_zero_initialized_branches_are_zero_at_init(
    report: dict[str, Any], network: str, norm: str
) -> None:
    for row in of(report["signal_propagation"][network], norm):
        assert row["max_branch_norm"] == 0.0
        assert set(row["branch_norms"]) == {0.0}


def test_none_blows_up_and_overflows_beyond_64_blocks(report: dict[str, Any]) -> None:
    none = {row["depth"]: row for row in of(report["signal_propagation"]["mlp"], "none")}
    # The variance roughly doubles per block: huge but finite at 64 blocks, beyond float32 after.
    assert 1e6 < none[64]["output_std"] < math.inf
    for depth in (256, 1024):
        for measure in (*MEASURES, "max_branch_norm"):
            assert not math.isfinite(none[depth][measure]), (depth, measure)


def test_normalized_networks_stay_finite(report: dict[str, Any]) -> None:
    rows = report["signal_propagation"]["mlp"]
    for row in of(rows, "batchnorm") + of(rows, "layernorm"):
        assert all(math.isfinite(row[measure]) for measure in MEASURES), row["depth"]


@pytest.mark.parametrize("norm", NORMS)
def test_signal_propagation_leaves_the_network_as_it_was(norm: str) -> None:
    net = build_mlp(norm, num_blocks=4, width=8, seed=0)
    state = {key: value.clone() for key, value in net.state_dict().items()}

    signal_propagation(net, torch.randn(6, net.in_dim))

    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)
    assert all(not block._forward_pre_hooks for block in net.blocks)
    assert all(param.grad is None for param in net.parameters())


def test_branch_norms_are_those_of_each_block_on_its_input() -> None:
    net = ResidualMLP(in_dim=5, width=8, num_blocks=3, norm="none")
    x = torch.randn(4, 5)

    result = signal_propagation(net, x)

    with torch.no_grad():
        h = net.input_activation(net.input(x))
        for block, branch_norm, stream_norm in zip(
            net.blocks, result["branch_norms"], result["stream_norms"], strict=True
        ):
            assert branch_norm == pytest.approx(block.branch(h).norm(dim=1).pow(2).mean().sqrt())
            assert stream_norm == pytest.approx(h.norm(dim=1).pow(2).mean().sqrt())
            h = block(h)


def test_gradients_are_those_of_the_probe_direction() -> None:
    # A network without blocks' contribution (Fixup at init) is relu(W x + b): the input
    # gradient of <f(x), v> is W^T (mask * v), whatever the depth.
    net = build_mlp("fixup", num_blocks=2, width=8, seed=0)
    x = torch.randn(3, net.in_dim)
    result = signal_propagation(net, x, seed=1)

    with torch.no_grad():
        pre = net.input(x)
        probe = torch.randn(3, 8, generator=torch.Generator().manual_seed(1))
        probe = probe / probe.norm(dim=1, keepdim=True)
        grad_x = ((pre > 0) * probe) @ net.input.weight
        grad_w = ((pre > 0) * probe).T @ x / len(x)
    assert result["input_grad_norm"] == pytest.approx(grad_x.norm(dim=1).pow(2).mean().sqrt())
    assert result["first_layer_grad_norm"] == pytest.approx(grad_w.norm())


def test_impala_cnn_rows_count_the_blocks_of_all_stages(report: dict[str, Any]) -> None:
    rows = of(report["signal_propagation"]["cnn"], "fixup")
    assert [(row["blocks_per_stage"], row["depth"]) for row in rows] == [(1, 3), (2, 6)]


def test_signal_propagation_measures_an_impala_cnn_of_any_scheme() -> None:
    net = build_cnn("batchnorm", blocks_per_stage=1, seed=0)
    assert isinstance(net, ImpalaCNN)
    result = signal_propagation(net, torch.randn(2, *IMAGE_SHAPE))
    assert len(result["branch_norms"]) == 3
    assert all(math.isfinite(result[measure]) for measure in MEASURES)
