"""``fixup-rl eval``: evaluate the final model of a run folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import RecordVideo
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from fixup_rl.agents import algo_class
from fixup_rl.cli.errors import UsageError, non_negative_int, positive_int, user_errors
from fixup_rl.cli.run_folder import EVAL_SEED_OFFSET, MODEL, STATS, read_config
from fixup_rl.envs import CATALOGUE, RANDOMIZED, make_vec_env


def add_eval_parser(commands: Any) -> None:
    """Add the ``eval`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "eval",
        help="evaluate the final model of a run folder",
        description="Evaluate model.zip of a run folder, with its VecNormalize statistics "
        "frozen and rewards unnormalized, and report the mean and std of the episode returns.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a run folder")
    parser.add_argument("--episodes", type=positive_int, default=5, help="default: 5")
    parser.add_argument("--json", action="store_true", help="print one JSON object on one line")
    parser.add_argument(
        "--video", action="store_true", help="record every episode into RUN_DIR/videos"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="take the policy's most likely action (default)",
    )
    mode.add_argument(
        "--stochastic",
        dest="deterministic",
        action="store_false",
        help="sample actions from the policy",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        help=f"seed of the first episode (default: the run's seed + {EVAL_SEED_OFFSET}, as in "
        "the evaluations made during training)",
    )
    parser.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    """Evaluate as ``args`` say; return the exit status."""
    # The run: its configuration, env and model.
    with user_errors():
        config = read_config(args.run_dir)
        seed = args.seed if args.seed is not None else config["seed"] + EVAL_SEED_OFFSET
        video_dir = args.run_dir / "videos"
        # The bare env, then the saved statistics around it.
        if args.video:
            env = _video_env(config, video_dir, seed, args.episodes)
        else:
            env = make_vec_env(config["env_id"], n_envs=1, seed=seed)
        env = _load_stats(config, args.run_dir, env)
        model = _load_model(config, args.run_dir, env)

    # Evaluation.
    result = evaluate(model, env, args.episodes, seed, args.deterministic)
    env.close()  # RecordVideo writes its last file on close

    # Report.
    result = {"algo": config["algo"], "env_id": config["env_id"], **result}
    result["video_dir"] = str(video_dir) if args.video else None
    if args.json:
        print(json.dumps(result))
    else:
        mode = "deterministic" if args.deterministic else "stochastic"
        print(
            f"{config['algo']} ({config['net']}) on {config['env_id']}: mean return "
            f"{result['mean_return']:.2f} ± {result['std_return']:.2f} over "
            f"{episodes(args.episodes)} ({mode}, seed {seed})"
            + (f"; videos in {video_dir}" if args.video else "")
        )
    return 0


def evaluate(
    model: BaseAlgorithm, env: VecEnv, episodes: int, seed: int, deterministic: bool
) -> dict[str, Any]:
    """Play ``episodes`` episodes from the seeded env; return their returns and statistics.

    :param model: the agent
    :param env: the evaluation env; with ``VecNormalize``, frozen and without reward scaling
    :param episodes: how many episodes
    :param seed: seeds the env's first reset and the global generators (stochastic actions)
    :param deterministic: take the most likely action instead of sampling
    :return: ``mean_return``, ``std_return``, ``episodes``, ``returns``, ``lengths``,
        ``seed`` and ``deterministic``, as plain JSON data
    """
    set_random_seed(seed)
    env.seed(seed)
    returns, lengths = evaluate_policy(
        model,
        env,
        n_eval_episodes=episodes,
        deterministic=deterministic,
        return_episode_rewards=True,
    )
    return {
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "episodes": episodes,
        "returns": [float(r) for r in returns],
        "lengths": [int(n) for n in lengths],
        "seed": seed,
        "deterministic": deterministic,
    }


def episodes(n: int) -> str:
    """``"1 episode"``, ``"5 episodes"``."""
    return f"{n} episode" + ("" if n == 1 else "s")


def _load_stats(config: dict[str, Any], run_dir: Path, env: VecEnv) -> VecEnv:
    if not config["normalize"]:
        return env
    path = run_dir / STATS
    if not path.is_file():
        raise UsageError(f"{run_dir} holds no {STATS}, but its config normalizes the env")
    try:
        stats = VecNormalize.load(str(path), env)
    except Exception as error:  # any failure to unpickle means the file is not usable
        raise UsageError(f"cannot load {path}: {_reason(error)}") from error
    stats.training = False
    stats.norm_reward = False
    return stats


def _load_model(config: dict[str, Any], run_dir: Path, env: VecEnv) -> BaseAlgorithm:
    path = run_dir / MODEL
    try:
        return algo_class(config["algo"]).load(path, env=env, device=config["device"])
    except ModuleNotFoundError as error:
        raise UsageError(str(error)) from error
    except Exception as error:  # a damaged zip, a missing entry, a model of another env...
        raise UsageError(f"cannot load {path}: {_reason(error)}") from error


def _video_env(config: dict[str, Any], folder: Path, seed: int, episodes: int) -> VecEnv:
    env_id = config["env_id"]
    try:
        probe = gym.make(env_id, render_mode="rgb_array")
        probe.reset(seed=seed)
        frame = probe.render()
        probe.close()
        if frame is None:
            raise RuntimeError("render() returned no frame")
        record = RecordVideo(
            Monitor(gym.make(env_id, render_mode="rgb_array")),
            str(folder),
            # The VecEnv resets after the last episode; that reset must not start a recording.
            episode_trigger=lambda episode: episode < episodes,
            name_prefix=env_id.replace("/", "_"),
        )
    except Exception as error:  # no display, no GL context, no pygame or moviepy...
        hint = ""
        if (CATALOGUE.get(env_id) or RANDOMIZED[env_id]).family == "mujoco":
            hint = "; headless MuJoCo rendering needs MUJOCO_GL=egl or MUJOCO_GL=osmesa"
        raise UsageError(f"cannot record video of {env_id}: {_reason(error)}{hint}") from error
    env = DummyVecEnv([lambda: record])
    env.seed(seed)
    return env


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
