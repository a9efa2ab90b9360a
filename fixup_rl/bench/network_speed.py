"""Speed of one network, forward and forward+backward, against a plain MLP.

Compared at each batch size, width and depth: ``ResidualMLP`` for each residual scheme, the
Fixup network folded (:func:`fixup_rl.fold`) and with its folded weights cached (the path
SB3 rollouts take), and a plain MLP with the same ``Linear`` layers built by SB3's
``create_mlp``. A large matrix product timed in the same run tells what the machine can do,
so the networks' achieved GFLOP/s can be read against it.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from stable_baselines3.common.torch_layers import create_mlp
from torch import nn

from fixup_rl._validation import check_choice, check_int, check_int_sequence
from fixup_rl.bench.timing import clock_name, time_interleaved
from fixup_rl.folding import fold
from fixup_rl.nn import ResidualMLP, cache_folded_weights

#: The networks compared; "mlp" is the reference of every ratio.
VARIANTS = (
    "mlp",
    "fixup",
    "fixup_folded",
    "fixup_cached",
    "none",
    "layernorm",
    "batchnorm",
    "rezero",
)
VARIANT_LABELS = {
    "mlp": "plain MLP (SB3 create_mlp)",
    "fixup": "Fixup",
    "fixup_folded": "Fixup, folded (fold())",
    "fixup_cached": "Fixup, folded weights cached (SB3 rollouts)",
    "none": "none (plain residual)",
    "layernorm": "layernorm",
    "batchnorm": "batchnorm",
    "rezero": "rezero",
}
#: "inference": eval mode under torch.no_grad(); "train": forward and backward in train mode.
MODES = ("inference", "train")
#: Networks that only exist for inference.
INFERENCE_ONLY = ("fixup_folded", "fixup_cached")
#: The observation size fed to the networks (HalfCheetah-v5's).
IN_DIM = 17


@dataclass(frozen=True)
class SpeedConfig:
    """What the network-speed benchmark measures.

    :param batch_sizes: batch sizes
    :param depths: residual blocks (the MLP has ``1 + 2 * depth`` Linear layers)
    :param width: width of every layer
    :param rounds: timing rounds per measurement (the median is reported)
    :param device: ``"cpu"`` or ``"cuda"``
    :param matmul_size: the side of the square matrix product that measures the machine
    """

    batch_sizes: Sequence[int] = (1, 16, 256, 4096)
    depths: Sequence[int] = (2, 8, 32)
    width: int = 256
    rounds: int = 15
    device: str = "cpu"
    matmul_size: int = 1024

    def __post_init__(self) -> None:
        check_int_sequence("batch_sizes", self.batch_sizes, minimum=1)
        check_int_sequence("depths", self.depths, minimum=1)
        check_int("width", self.width, minimum=1)
        check_int("rounds", self.rounds, minimum=1)
        check_choice("device", self.device, ("cpu", "cuda"))
        check_int("matmul_size", self.matmul_size, minimum=1)


def build_network(variant: str, depth: int, width: int) -> nn.Module:
    """Build one of :data:`VARIANTS` with ``1 + 2 * depth`` Linear layers of ``width``.

    :param variant: the network
    :param depth: residual blocks
    :param width: width of every layer
    :return: the network, in train mode
    """
    if variant == "mlp":
        return nn.Sequential(*create_mlp(IN_DIM, -1, [width] * (1 + 2 * depth), nn.ReLU))
    norm = "fixup" if variant.startswith("fixup") else variant
    net = ResidualMLP(IN_DIM, width, depth, norm=norm)
    if variant == "fixup_folded":
        return fold(net)
    if variant == "fixup_cached":
        cache_folded_weights(net)
    return net


def linear_flops(depth: int, width: int, batch: int) -> int:
    """Floating-point operations of the Linear layers in one forward pass (2 per multiply-add).

    :param depth: residual blocks
    :param width: width of every layer
    :param batch: batch size
    :return: the count; forward+backward is counted as three times this
    """
    return 2 * batch * (IN_DIM * width + 2 * depth * width * width)


def measure_network_speed(
    config: SpeedConfig, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Time every variant at every batch size, depth and mode.

    :param config: what to measure
    :param progress: called with a line of text after each measurement (or None)
    :return: ``{"device", "clock", "threads", "matmul_gflops", "rows": [...]}``; each row has
        the depth, width, batch, mode, and per variant the median seconds, the ratio to the
        MLP and the achieved GFLOP/s
    """
    device = torch.device(config.device)
    result: dict[str, Any] = {
        "device": str(device),
        "clock": clock_name(device),
        "threads": torch.get_num_threads(),
        "matmul_gflops": _matmul_gflops(config, device),
        "rows": [],
    }
    for depth, batch in itertools.product(config.depths, config.batch_sizes):
        torch.manual_seed(0)
        nets = {name: build_network(name, depth, config.width).to(device) for name in VARIANTS}
        x = torch.randn(batch, IN_DIM, device=device)
        for mode in MODES:
            seconds = time_interleaved(_calls(nets, x, mode), device, _rounds(config, batch))
            row = _row(seconds, depth, config.width, batch, mode)
            result["rows"].append(row)
            if progress is not None:
                progress(_describe(row))
    return result


def _calls(nets: dict[str, nn.Module], x: torch.Tensor, mode: str) -> dict[str, Callable[[], Any]]:
    calls: dict[str, Callable[[], Any]] = {}
    for name, net in nets.items():
        if mode == "inference":
            calls[name] = inference_call(copy.deepcopy(net).eval(), x)
        elif name not in INFERENCE_ONLY:
            calls[name] = train_step_call(net.train(), x)
    return calls


def inference_call(net: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    """One inference call of ``net`` on ``x`` (under ``torch.no_grad()``), as a function.

    :param net: the network, in the mode it is to be timed in
    :param x: the input batch
    :return: a function running one call
    """
    if isinstance(net, ResidualMLP):
        # A deep copy of a cached network gets its own cache, as it should.
        cache_folded_weights(net, enabled=any(_cached(block) for block in net.blocks))

    def call() -> Any:
        with torch.no_grad():
            return net(x)

    return call


def _cached(block: nn.Module) -> bool:
    cache = getattr(block, "fold_cache", None)
    return bool(cache is not None and cache.enabled)


def train_step_call(net: nn.Module, x: torch.Tensor) -> Callable[[], Any]:
    """One training step of ``net`` on ``x`` (forward and backward of the sum), as a function.

    :param net: the network, in train mode
    :param x: the input batch
    :return: a function running one step
    """

    def call() -> Any:
        net.zero_grad(set_to_none=True)
        net(x).sum().backward()

    return call


def _row(
    seconds: dict[str, float], depth: int, width: int, batch: int, mode: str
) -> dict[str, Any]:
    flops = linear_flops(depth, width, batch) * (3 if mode == "train" else 1)
    reference = seconds["mlp"]
    return {
        "depth": depth,
        "width": width,
        "batch": batch,
        "mode": mode,
        "seconds": seconds,
        "ratio_to_mlp": {name: value / reference for name, value in seconds.items()},
        "gflops": {name: flops / value / 1e9 for name, value in seconds.items()},
    }


def _describe(row: dict[str, Any]) -> str:
    ratios = " ".join(f"{name}={ratio:.2f}" for name, ratio in row["ratio_to_mlp"].items())
    mlp_us = row["seconds"]["mlp"] * 1e6
    return (
        f"depth {row['depth']:>3} batch {row['batch']:>5} {row['mode']:<9} "
        f"mlp {mlp_us:9.1f} us | x mlp: {ratios}"
    )


def _rounds(config: SpeedConfig, batch: int) -> int:
    # The biggest batches take a second per call at depth 32; fewer rounds keep the run short.
    return config.rounds if batch <= 256 else max(3, config.rounds // 3)


def _matmul_gflops(config: SpeedConfig, device: torch.device) -> float:
    n = config.matmul_size
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    seconds = time_interleaved({"matmul": lambda: a @ b}, device, rounds=5, target_seconds=0.1)
    return 2 * n**3 / seconds["matmul"] / 1e9
