"""Measure how a recipe of ``fixup_rl.agents`` learns, and record it with its seed.

One run trains ``algo`` on ``env_id`` from its recipe (agents/recipes/<algo>.yml) with the
given network for the recipe's budget, evaluates the deterministic policy every
``--eval-every`` steps on 10 episodes (VecNormalize statistics frozen, rewards unnormalized)
and writes a JSON record to ``benchmarks/results/learning/``.

    python benchmarks/learning_targets.py ppo Pendulum-v1 --depth 16 --seed 0
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import stable_baselines3
import torch
import yaml
from stable_baselines3.common.evaluation import evaluate_policy

import fixup_rl
from fixup_rl.agents import build_agent, make_env, resolve_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("algo")
    parser.add_argument("env_id")
    parser.add_argument("--net", default="fixup")
    parser.add_argument("--depth", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--depth-aware", action="store_true")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter, VALUE read as YAML (repeatable)",
    )
    parser.add_argument("--tag", default="", help="a suffix for the record's file name")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "learning")
    args = parser.parse_args()
    torch.set_num_threads(1)

    overrides = {
        key: yaml.safe_load(value) for key, _, value in (s.partition("=") for s in args.set)
    }
    for name in ("net", "depth", "width", "seed"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.budget:
        overrides["n_timesteps"] = args.budget
    if args.depth_aware:
        overrides["policy_kwargs"] = {"depth_aware": True}
    config = resolve_config(args.algo, args.env_id, **overrides)
    model, env = build_agent(config)

    curve = []
    start = time.time()
    while model.num_timesteps < config["n_timesteps"]:
        model.learn(args.eval_every, reset_num_timesteps=False)
        eval_env = make_env(config, n_envs=1, seed=config["seed"] + 1000, for_eval=True)
        if config["normalize"]:
            eval_env.obs_rms = env.obs_rms
        mean, std = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
        curve.append(dict(timesteps=model.num_timesteps, mean_return=mean, std_return=std))
        print(
            args.algo, args.env_id, config["depth"], model.num_timesteps, round(mean, 1), flush=True
        )
    elapsed = time.time() - start

    record = dict(
        algo=args.algo,
        env_id=args.env_id,
        net=config["net"],
        depth=config["depth"],
        width=config["width"],
        depth_aware=args.depth_aware,
        overrides=args.set,
        seed=config["seed"],
        budget=config["n_timesteps"],
        final_mean_return=curve[-1]["mean_return"],
        final_std_return=curve[-1]["std_return"],
        best_mean_return=max(point["mean_return"] for point in curve),
        curve=curve,
        seconds=round(elapsed, 1),
        command=" ".join(["python", *sys.argv]),
        config=config,
        machine=dict(platform=platform.platform(), processor=platform.machine(), threads=1),
        versions=dict(
            fixup_rl=fixup_rl.__version__,
            torch=torch.__version__,
            stable_baselines3=stable_baselines3.__version__,
            numpy=np.__version__,
        ),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    name = f"{args.algo}-{args.env_id}-{config['net']}-d{config['depth']}-w{config['width']}"
    name += f"{'-da' if args.depth_aware else ''}{'-' + args.tag if args.tag else ''}"
    (args.out / f"{name}-s{config['seed']}.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
