"""Training throughput: SB3 environment steps per second with each network.

Each measurement builds the agent from its recipe (:func:`fixup_rl.agents.resolve_config`),
runs it past its warm-up (one PPO rollout and update; SAC's ``learning_starts`` and a few
updates), then times ``learn()`` for the measured steps, which includes the env steps, the
rollout forward passes and the gradient updates. Agents differ only in the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fixup_rl._validation import check_choice, check_int
from fixup_rl.agents import ALGOS, NETS, build_agent, resolve_config


@dataclass(frozen=True)
class ThroughputConfig:
    """What the throughput benchmark measures.

    :param algos: the algorithms
    :param env_id: the task
    :param nets: the networks: ``"mlp"`` is SB3's ``MlpPolicy`` with the same Linear layers,
        any other name a Fixup policy of that residual scheme (both with torch's default Adam)
    :param depth: residual blocks per algorithm (recipe default when absent)
    :param width: width per algorithm (recipe default when absent)
    :param steps: measured env steps per algorithm
    :param repeats: measurements per network (the best is reported), interleaved
    :param overrides: hyperparameter overrides per algorithm (e.g. a smaller ``n_steps``)
    :param device: where the agents train, ``"cpu"`` or ``"cuda"`` (never SB3's ``"auto"``, so
        that a machine with a GPU still measures what it was asked to)
    """

    algos: Sequence[str] = ("ppo", "sac")
    env_id: str = "Pendulum-v1"
    nets: Sequence[str] = ("fixup", "mlp", "layernorm")
    depth: dict[str, int] = field(default_factory=dict)
    width: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=lambda: {"ppo": 8192, "sac": 1000})
    repeats: int = 2
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    device: str = "cpu"

    def __post_init__(self) -> None:
        if isinstance(self.algos, str) or not self.algos:
            raise ValueError(
                f"algos must be a sequence of one or more of {ALGOS}, got {self.algos!r}"
            )
        for algo in self.algos:
            check_choice("algos", algo, ALGOS)
            check_int(f"steps[{algo!r}]", self.steps.get(algo), minimum=1)
        if isinstance(self.nets, str) or not self.nets or "mlp" not in self.nets:
            raise ValueError(
                f"nets must be a sequence of networks that includes 'mlp' (the reference of "
                f"every ratio), got {self.nets!r}"
            )
        for net in self.nets:
            check_choice("nets", net, NETS)
        check_int("repeats", self.repeats, minimum=1)
        check_choice("device", self.device, ("cpu", "cuda"))


def measure_throughput(
    config: ThroughputConfig, progress: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Measure env steps per second for each algorithm and network.

    :param config: what to measure
    :param progress: called with a line of text after each measurement (or None)
    :return: one row per algorithm: depth, width, steps, and per network the steps per second
        (wall clock and CPU time of the process) and the ratio to ``"mlp"``
    """
    rows = []
    for algo in config.algos:
        wall: dict[str, float] = {net: 0.0 for net in config.nets}
        cpu: dict[str, float] = {net: 0.0 for net in config.nets}
        resolved: dict[str, Any] = {}
        for _ in range(config.repeats):
            for net in config.nets:
                run = _measure(algo, net, config)
                resolved = run["config"]
                wall[net] = max(wall[net], run["wall_steps_per_s"])
                cpu[net] = max(cpu[net], run["cpu_steps_per_s"])
        row = {
            "algo": algo,
            "env_id": config.env_id,
            "depth": resolved["depth"],
            "width": resolved["width"],
            "n_envs": resolved["n_envs"],
            "device": config.device,
            "steps": config.steps[algo],
            "wall_steps_per_s": wall,
            "cpu_steps_per_s": cpu,
            "ratio_to_mlp": {net: cpu[net] / cpu["mlp"] for net in cpu} if "mlp" in cpu else {},
        }
        rows.append(row)
        if progress is not None:
            progress(_describe(row))
    return rows


def _measure(algo: str, net: str, config: ThroughputConfig) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "net": net,
        "device": config.device,
        **config.overrides.get(algo, {}),
    }
    for key in ("depth", "width"):
        if algo in getattr(config, key):
            overrides[key] = getattr(config, key)[algo]
    resolved = resolve_config(algo, config.env_id, **overrides)
    model, env = build_agent(resolved)

    # Warm-up: past SAC's learning_starts, or one PPO rollout and its update.
    warmup = getattr(model, "learning_starts", 0) + 64
    if hasattr(model, "n_steps"):
        warmup = model.n_steps * model.n_envs
    model.learn(warmup)

    steps = config.steps[algo]
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(steps, reset_num_timesteps=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    env.close()
    return {
        "config": resolved,
        "wall_steps_per_s": steps / wall,
        "cpu_steps_per_s": steps / cpu,
    }


def _describe(row: dict[str, Any]) -> str:
    rates = " ".join(f"{net}={rate:.0f}" for net, rate in row["cpu_steps_per_s"].items())
    return (
        f"{row['algo']} {row['env_id']} depth {row['depth']} width {row['width']}: "
        f"steps/s (CPU time) {rates}"
    )
