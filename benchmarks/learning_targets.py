"""Measure the learning targets of the default Fixup recipes and record them with their seeds.

Each run trains one (task, algorithm, network) configuration for a fixed budget, evaluates the
deterministic policy every ``--eval-every`` steps on 10 episodes (with the training
VecNormalize statistics, frozen), and writes a JSON record to ``benchmarks/results/learning/``.

    python benchmarks/learning_targets.py ppo-pendulum --depth 2 --seed 0
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecNormalize

import fixup_rl

# rl-baselines3-zoo's settings for these tasks (hyperparams/ppo.yml, sac.yml); the network is ours.
TASKS: dict[str, dict[str, Any]] = {
    "ppo-pendulum": dict(
        algo=PPO,
        policy=fixup_rl.FixupActorCriticPolicy,
        env_id="Pendulum-v1",
        n_envs=4,
        normalize=True,
        budget=100_000,
        width=64,
        hyperparams=dict(
            n_steps=1024,
            gae_lambda=0.95,
            gamma=0.9,
            n_epochs=10,
            ent_coef=0.0,
            learning_rate=1e-3,
            clip_range=0.2,
            use_sde=True,
            sde_sample_freq=4,
        ),
    ),
    "sac-pendulum": dict(
        algo=SAC,
        policy=fixup_rl.FixupSACPolicy,
        env_id="Pendulum-v1",
        n_envs=1,
        normalize=False,
        budget=20_000,
        width=256,
        hyperparams=dict(learning_rate=1e-3),
    ),
    "ppo-invertedpendulum": dict(
        algo=PPO,
        policy=fixup_rl.FixupActorCriticPolicy,
        env_id="InvertedPendulum-v5",
        n_envs=1,
        normalize=True,
        budget=100_000,
        width=64,
        hyperparams=dict(n_steps=512, batch_size=64, gae_lambda=0.9, gamma=0.98, n_epochs=10),
    ),
}


def evaluate(model: Any, env: Any, task: dict[str, Any], seed: int) -> tuple[float, float]:
    eval_env = make_vec_env(task["env_id"], n_envs=1, seed=seed + 1000)
    if isinstance(env, VecNormalize):
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False)
        eval_env.obs_rms = env.obs_rms
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    return float(mean), float(std)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--depth-aware", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    task = TASKS[args.task]
    width = args.width or task["width"]
    budget = args.budget or task["budget"]
    env = make_vec_env(task["env_id"], n_envs=task["n_envs"], seed=args.seed)
    if task["normalize"]:
        env = VecNormalize(env, gamma=task["hyperparams"].get("gamma", 0.99))
    policy_kwargs = dict(num_blocks=args.depth, width=width, depth_aware=args.depth_aware)
    model = task["algo"](
        task["policy"], env, policy_kwargs=policy_kwargs, seed=args.seed, **task["hyperparams"]
    )

    curve = []
    start = time.time()
    while model.num_timesteps < budget:
        model.learn(args.eval_every, reset_num_timesteps=False)
        mean, std = evaluate(model, env, task, args.seed)
        curve.append(dict(timesteps=model.num_timesteps, mean_return=mean, std_return=std))
        print(args.task, args.depth, model.num_timesteps, round(mean, 1), flush=True)
    elapsed = time.time() - start

    record = dict(
        task=args.task,
        env_id=task["env_id"],
        algo=task["algo"].__name__,
        depth=args.depth,
        width=width,
        depth_aware=args.depth_aware,
        seed=args.seed,
        budget=budget,
        final_mean_return=curve[-1]["mean_return"],
        final_std_return=curve[-1]["std_return"],
        best_mean_return=max(point["mean_return"] for point in curve),
        curve=curve,
        seconds=round(elapsed, 1),
        command=" ".join(["python", *sys.argv]),
        machine=dict(platform=platform.platform(), processor=platform.processor(), threads=1),
        versions=dict(
            fixup_rl=fixup_rl.__version__,
            torch=torch.__version__,
            stable_baselines3=stable_baselines3.__version__,
            numpy=np.__version__,
        ),
    )
    out = Path(__file__).parent / "results" / "learning"
    out.mkdir(parents=True, exist_ok=True)
    name = f"{args.task}-d{args.depth}-w{width}{'-da' if args.depth_aware else ''}-s{args.seed}"
    (out / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
