"""Learning results: the return each network reaches at a fixed budget, over seeds.

One run trains an agent from its recipe (:func:`fixup_rl.agents.resolve_config`) with the
given network, evaluates its deterministic policy every ``eval_every`` steps on 10 episodes
(a separate env seeded ``seed + 1000``, VecNormalize statistics frozen, rewards not
normalized) and writes one JSON record. Records already on disk are not run again, so a grid
can be filled in over several sessions and seeds added later.

Two baselines are SB3's default ``MlpPolicy``: ``"sb3"`` (its own ``net_arch`` and
activation) with the recipe's hyperparameters, and ``"zoo"`` with rl-baselines3-zoo's own
settings where the recipe departs from them for the residual networks (:data:`ZOO_SETTINGS`).
Each record also keeps the machine, the library versions and the command that produced it.
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stable_baselines3.common.evaluation import evaluate_policy

from fixup_rl._validation import check_choice, check_int
from fixup_rl.agents import ALGOS, NETS, build_agent, make_env, resolve_config
from fixup_rl.bench.report import environment as current_environment

EVAL_EPISODES = 10
EVAL_SEED_OFFSET = 1000

#: (algo, env_id) -> what rl-baselines3-zoo's hyperparams/<algo>.yml (at the commit the recipe
#: files name) sets for SB3's MlpPolicy where the recipe departs from it: the recipe adds
#: VecNormalize and drops gSDE for PPO on Pendulum-v1 (agents/recipes/ppo.yml says why), and
#: the zoo trains HalfCheetah with a 256-256 ReLU network. The ``"zoo"`` baseline puts them
#: back; on a task not listed it would be the ``"sb3"`` run, so the grid leaves it out.
ZOO_SETTINGS: dict[tuple[str, str], dict[str, Any]] = {
    ("ppo", "Pendulum-v1"): {"normalize": False, "use_sde": True, "sde_sample_freq": 4},
    ("ppo", "HalfCheetah-v5"): {
        "policy_kwargs": {
            "activation_fn": "ReLU",
            "net_arch": {"pi": [256, 256], "vf": [256, 256]},
        }
    },
}

#: The baselines: SB3's default MlpPolicy with the recipe's, or the zoo's, settings.
BASELINES = ("sb3", "zoo")


@dataclass(frozen=True)
class LearningRun:
    """One training run of the learning benchmark.

    :param algo: the algorithm
    :param env_id: the task
    :param net: a baseline of :data:`BASELINES` (SB3's default MlpPolicy) or a net of
        :data:`fixup_rl.agents.NETS`
    :param depth: residual blocks (ignored for a baseline)
    :param width: width of every layer (ignored for a baseline)
    :param seed: the seed
    :param budget: env steps
    :param eval_every: env steps between evaluations
    """

    algo: str
    env_id: str
    net: str
    depth: int
    width: int
    seed: int
    budget: int
    eval_every: int

    def __post_init__(self) -> None:
        check_choice("algo", self.algo, ALGOS)
        check_choice("net", self.net, (*BASELINES, *NETS))
        shaped = self.net not in BASELINES  # SB3's default network ignores depth and width
        check_int("depth", self.depth, minimum=1 if shaped else 0)
        check_int("width", self.width, minimum=1 if shaped else 0)
        check_int("seed", self.seed, minimum=0)
        check_int("budget", self.budget, minimum=1)
        check_int("eval_every", self.eval_every, minimum=1)

    @property
    def name(self) -> str:
        """The record's file name, without ``.json``."""
        shape = "default" if self.net in BASELINES else f"d{self.depth}-w{self.width}"
        return f"{self.algo}-{self.env_id}-{self.net}-{shape}-b{self.budget}-s{self.seed}"


def resolve_run(run: LearningRun, device: str = "cpu") -> dict[str, Any]:
    """The agent configuration of ``run`` (see :func:`fixup_rl.agents.resolve_config`).

    :param run: the run
    :param device: where the agent trains, ``"cpu"`` or ``"cuda"``
    :return: the configuration
    :raises ValueError: where the recipe cannot run this algorithm on this task
    """
    if run.net in BASELINES:
        zoo = dict(ZOO_SETTINGS.get((run.algo, run.env_id), {})) if run.net == "zoo" else {}
        zoo_policy_kwargs = zoo.pop("policy_kwargs", {})
        config = resolve_config(
            run.algo,
            run.env_id,
            net="mlp",
            seed=run.seed,
            n_timesteps=run.budget,
            device=device,
            **zoo,
        )
        # SB3's defaults: its own net_arch and activation for this algorithm, or the zoo's.
        for key in ("net_arch", "activation_fn"):
            config["policy_kwargs"].pop(key, None)
        config["policy_kwargs"].update(zoo_policy_kwargs)
        config["net"] = run.net
        return config
    return resolve_config(
        run.algo,
        run.env_id,
        net=run.net,
        depth=run.depth,
        width=run.width,
        seed=run.seed,
        n_timesteps=run.budget,
        device=device,
    )


def run_learning(
    run: LearningRun,
    folder: Path,
    progress: Callable[[str], None] | None = None,
    device: str = "cpu",
    environment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and evaluate ``run``, write its record into ``folder`` and return it.

    A record already in ``folder`` is read and returned instead.

    :param run: the run
    :param folder: the folder of the records
    :param progress: called with a line of text after each evaluation (or None)
    :param device: where the agent trains, ``"cpu"`` or ``"cuda"``
    :param environment: the machine, versions and command to record (see
        :func:`fixup_rl.bench.report.environment`); by default this process's, with its
        command line
    :return: the record: the run, its curve, the final and best returns, seconds, config and
        environment
    """
    path = folder / f"{run.name}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))

    if environment is None:
        environment = {**current_environment([]), "command": shlex.join(["python", *sys.argv])}
    config = resolve_run(run, device)
    model, env = build_agent(config)
    curve = []
    start = time.perf_counter()
    while model.num_timesteps < run.budget:
        steps = min(run.eval_every, run.budget - model.num_timesteps)
        model.learn(steps, reset_num_timesteps=False)
        mean, std = _evaluate(model, env, config)
        curve.append({"timesteps": model.num_timesteps, "mean_return": mean, "std_return": std})
        if progress is not None:
            progress(f"{run.name}: {model.num_timesteps} steps, return {mean:.1f}")
    env.close()

    record = {
        **asdict(run),
        "final_mean_return": curve[-1]["mean_return"],
        "best_mean_return": max(point["mean_return"] for point in curve),
        "curve": curve,
        "seconds": round(time.perf_counter() - start, 1),
        "config": config,
        "environment": environment,
    }
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
    return record


def _evaluate(model: Any, env: Any, config: dict[str, Any]) -> tuple[float, float]:
    eval_env = make_env(config, n_envs=1, seed=config["seed"] + EVAL_SEED_OFFSET, for_eval=True)
    if config["normalize"]:
        eval_env.obs_rms = env.obs_rms
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=EVAL_EPISODES, deterministic=True)
    eval_env.close()
    return float(mean), float(std)


def summarize(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group records by everything but the seed: mean and std of the final and best returns.

    The std is the sample standard deviation over seeds (``None`` for a single seed).

    :param records: run records
    :return: one row per group, sorted by algo, env, budget, net and depth, with the seeds,
        ``final_mean``, ``final_std``, ``best_mean``, ``best_std`` and the mean curve
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        key = (
            record["algo"],
            record["env_id"],
            record["budget"],
            record["net"],
            record["depth"] if record["net"] not in BASELINES else 0,
            record["width"] if record["net"] not in BASELINES else 0,
        )
        groups.setdefault(key, []).append(record)

    rows = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda record: record["seed"])
        finals = [record["final_mean_return"] for record in group]
        bests = [record["best_mean_return"] for record in group]
        rows.append(
            {
                **dict(
                    zip(("algo", "env_id", "budget", "net", "depth", "width"), key, strict=True)
                ),
                "seeds": [record["seed"] for record in group],
                "final_mean": statistics.fmean(finals),
                "final_std": _std(finals),
                "best_mean": statistics.fmean(bests),
                "best_std": _std(bests),
                "curve": _mean_curve(group),
            }
        )
    return rows


def _mean_curve(group: list[dict[str, Any]]) -> list[dict[str, float]]:
    # The evaluation points all runs share, averaged over the runs.
    steps = set.intersection(*({p["timesteps"] for p in record["curve"]} for record in group))
    curve = []
    for step in sorted(steps):
        returns = [
            next(p["mean_return"] for p in record["curve"] if p["timesteps"] == step)
            for record in group
        ]
        spread = _std(returns) or 0.0  # a single run draws no band
        curve.append({"timesteps": step, "mean": statistics.fmean(returns), "std": spread})
    return curve


def _std(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None
