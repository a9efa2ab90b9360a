"""The learning grid of ``fixup-rl bench``: tasks × networks × seeds, and its text forms."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from fixup_rl.agents import ALGOS, NETS
from fixup_rl.bench.learning import BASELINES, ZOO_SETTINGS, LearningRun
from fixup_rl.envs import check_env_id

#: (algo, env_id, budget, eval_every): the tasks of the full benchmark.
DEFAULT_TASKS = (
    ("sac", "Pendulum-v1", 20_000, 2_000),
    ("ppo", "Pendulum-v1", 100_000, 10_000),
    ("sac", "Hopper-v5", 100_000, 10_000),
    ("ppo", "HalfCheetah-v5", 100_000, 10_000),
)
#: (net, depth): SB3's default MlpPolicy (with the recipe's and with rl-baselines3-zoo's
#: settings), Fixup at 2, 8 and 16 blocks, and the alternatives at 8 and 16 blocks (the MLP
#: with as many Linear layers).
DEFAULT_NETS = (
    ("sb3", 0),
    ("zoo", 0),
    ("fixup", 2),
    ("fixup", 8),
    ("fixup", 16),
    ("mlp", 8),
    ("mlp", 16),
    ("layernorm", 8),
    ("layernorm", 16),
    ("none", 8),
    ("none", 16),
)
#: Width of every layer per algorithm (the recipes' defaults).
WIDTHS = {"ppo": 64, "a2c": 64, "sac": 256, "td3": 256, "tqc": 256}


def learning_runs(
    tasks: Sequence[tuple[str, str, int, int]],
    nets: Sequence[tuple[str, int]],
    seeds: Sequence[int],
) -> list[LearningRun]:
    """Every run of the grid, seed by seed (all of seed 0 first), so a cut run still compares.

    The ``"zoo"`` baseline runs only on the tasks of :data:`ZOO_SETTINGS`; elsewhere it would
    repeat the ``"sb3"`` run.

    :param tasks: (algo, env_id, budget, eval_every) per task
    :param nets: (net, depth) per network
    :param seeds: the seeds
    :return: the runs
    """
    return [
        LearningRun(algo, env_id, net, depth, WIDTHS[algo], seed, budget, eval_every)
        for seed in seeds
        for algo, env_id, budget, eval_every in tasks
        for net, depth in nets
        if net != "zoo" or (algo, env_id) in ZOO_SETTINGS
    ]


def parse_task(text: str) -> tuple[str, str, int, int]:
    """An argparse type: ``ALGO:ENV_ID:BUDGET[:EVAL_EVERY]`` (eval every tenth by default)."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError(
            f"must be ALGO:ENV_ID:BUDGET[:EVAL_EVERY] such as ppo:Pendulum-v1:100000, got {text!r}"
        )
    algo, env_id = parts[0], parts[1]
    if algo not in ALGOS:
        raise argparse.ArgumentTypeError(f"algo must be one of {', '.join(ALGOS)}, got {algo!r}")
    try:
        check_env_id(env_id)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    numbers = [_positive(part, text) for part in parts[2:]]
    budget = numbers[0]
    eval_every = numbers[1] if len(numbers) == 2 else max(budget // 10, 1)
    return algo, env_id, budget, eval_every


def parse_net(text: str) -> tuple[str, int]:
    """An argparse type: ``sb3``, ``zoo`` or ``NET:DEPTH`` such as ``fixup:8``."""
    if text in BASELINES:
        return text, 0
    net, _, depth = text.partition(":")
    if net not in NETS:
        raise argparse.ArgumentTypeError(
            f"must be sb3, zoo or NET:DEPTH with NET one of {', '.join(NETS)}, got {text!r}"
        )
    return net, _positive(depth, text)


def _positive(part: str, text: str) -> int:
    try:
        value = int(part)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{part!r} in {text!r} must be a positive integer")
    return value
