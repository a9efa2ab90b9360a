"""``fixup-rl train``: train an agent from its recipe into a new run folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
)
from stable_baselines3.common.vec_env import VecEnv, VecNormalize, sync_envs_normalization

from fixup_rl.agents import ALGOS, NETS, build_agent, make_env, resolve_config
from fixup_rl.agents.schema import DEVICES
from fixup_rl.callbacks import FixupMetricsCallback
from fixup_rl.cli.errors import UsageError, non_negative_int, positive_int, user_errors
from fixup_rl.cli.evaluate import episodes, evaluate
from fixup_rl.cli.run_folder import (
    EVAL_SEED_OFFSET,
    FINAL_EVALUATION,
    MODEL,
    STATS,
    check_name,
    claim_run_dir,
    create_run_dir,
    run_name,
)

INTERRUPTED = 130


def add_train_parser(commands: Any) -> None:
    """Add the ``train`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "train",
        help="train an agent from its recipe",
        description="Train an agent from its recipe (fixup_rl/agents/recipes/<algo>.yml) into "
        "a new run folder. Every option defaults to the recipe's value.",
    )
    parser.add_argument("--algo", choices=ALGOS, default="ppo", help="default: ppo")
    parser.add_argument(
        "--env",
        default="Pendulum-v1",
        metavar="ENV_ID",
        help="a versioned env id of fixup_rl.envs.CATALOGUE or RANDOMIZED (default: Pendulum-v1)",
    )
    parser.add_argument("--net", choices=NETS, help="the network (recipe default: fixup)")
    parser.add_argument(
        "--depth", type=positive_int, help="residual blocks (--net mlp: 1 + 2*depth layers)"
    )
    parser.add_argument("--width", type=positive_int, help="width of every layer")
    parser.add_argument("--timesteps", type=positive_int, help="training budget in env steps")
    parser.add_argument("--seed", type=non_negative_int, help="default: 0")
    parser.add_argument("--n-envs", type=positive_int, help="envs stepped in parallel")
    parser.add_argument("--device", choices=DEVICES, help="default: auto")
    parser.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        help="normalize observations and rewards with VecNormalize (or not)",
    )
    parser.add_argument(
        "--set",
        action="append",
        type=_setting,
        default=[],
        metavar="KEY=VALUE",
        help="set a hyperparameter, VALUE read as YAML: --set n_steps=256 "
        "--set 'learning_rate={schedule: linear, initial: 3.0e-4}' (repeatable)",
    )
    parser.add_argument("--out", default="runs", help="where run folders go (default: runs)")
    parser.add_argument(
        "--name",
        type=check_name,
        help="the run folder's name (default: <algo>-<env>-<net>-s<seed>-<date>-<time>)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing run folder")
    parser.add_argument(
        "--eval-freq",
        type=non_negative_int,
        metavar="N",
        help="evaluate every N env steps; 0 disables (default: a tenth of the budget)",
    )
    parser.add_argument(
        "--eval-episodes", type=positive_int, default=5, metavar="N", help="default: 5"
    )
    parser.add_argument(
        "--checkpoint-freq",
        type=non_negative_int,
        metavar="N",
        help="save a checkpoint every N env steps; 0 disables (default: a quarter of the budget)",
    )
    parser.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Train as ``args`` say; return the exit status."""
    # Configuration and run folder.
    with user_errors():
        config = resolve_config(args.algo, args.env, **_overrides(args))
        run_dir = Path(args.out) / (args.name or run_name(config))
        config["tensorboard_log"] = str(run_dir / "tensorboard")
        claim_run_dir(run_dir, args.force)

        # Environments and model; the eval env reads the training statistics, never updates them.
        model, env = build_agent(config)
        eval_seed = config["seed"] + EVAL_SEED_OFFSET
        eval_env = make_env(config, n_envs=1, seed=eval_seed, for_eval=True)
        create_run_dir(run_dir, config)
    print(
        f"Training {config['algo']} with a {config['net']} network (depth {config['depth']}, "
        f"width {config['width']}) on {config['env_id']} for {config['n_timesteps']} steps "
        f"into {run_dir}"
    )
    learning_starts = getattr(model, "learning_starts", 0)
    if config["n_timesteps"] <= learning_starts:
        print(
            f"warning: the budget of {config['n_timesteps']} steps ends before learning starts "
            f"(learning_starts={learning_starts}): the network will not be trained; raise "
            f"--timesteps or pass --set learning_starts=N",
            file=sys.stderr,
        )

    # Learning; Fixup metrics only for residual networks, as SB3's MLP has no blocks.
    evaluations = _eval_callback(args, config, run_dir, eval_env, eval_seed)
    callbacks: list[BaseCallback] = []
    callbacks += [FixupMetricsCallback(log_every=10)] if config["net"] != "mlp" else []
    callbacks += [evaluations] if evaluations is not None else []
    callbacks += _checkpoint_callback(args, config, run_dir)
    interrupted = False
    try:
        model.learn(
            config["n_timesteps"],
            callback=CallbackList(callbacks),
            progress_bar=True,
            tb_log_name=config["algo"],
        )
    except KeyboardInterrupt:
        interrupted = True

    # Saving, then a final evaluation that `fixup-rl eval` reproduces from the saved files.
    model.save(run_dir / MODEL)
    if isinstance(env, VecNormalize):
        env.save(str(run_dir / STATS))
    sync_envs_normalization(env, eval_env)
    final = evaluate(model, eval_env, args.eval_episodes, eval_seed, deterministic=True)
    (run_dir / FINAL_EVALUATION).write_text(json.dumps(final) + "\n", encoding="utf-8")

    _print_summary(run_dir, model, env, evaluations, final, interrupted)
    return INTERRUPTED if interrupted else 0


def _setting(text: str) -> tuple[str, Any]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"must be KEY=VALUE, got {text!r}")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a YAML value") from error


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    flags = {
        "net": args.net,
        "depth": args.depth,
        "width": args.width,
        "n_timesteps": args.timesteps,
        "seed": args.seed,
        "n_envs": args.n_envs,
        "device": args.device,
        "normalize": args.normalize,
    }
    overrides = dict(args.set)
    for key, value in flags.items():
        if value is None:
            continue
        if key in overrides:
            raise UsageError(f"{key} is set both by --set and by its own option; keep one")
        overrides[key] = value
    return overrides


def _eval_callback(
    args: argparse.Namespace,
    config: dict[str, Any],
    run_dir: Path,
    eval_env: VecEnv,
    eval_seed: int,
) -> EvalCallback | None:
    every = args.eval_freq if args.eval_freq is not None else config["n_timesteps"] // 10
    if every == 0:
        return None
    best_stats = _SaveStats(run_dir / "best_vecnormalize.pkl") if config["normalize"] else None
    return SeededEvalCallback(
        eval_env,
        eval_seed,
        callback_on_new_best=best_stats,
        n_eval_episodes=args.eval_episodes,
        eval_freq=max(every // config["n_envs"], 1),
        log_path=str(run_dir),
        best_model_save_path=str(run_dir),
        deterministic=True,
        verbose=0,
    )


def _checkpoint_callback(
    args: argparse.Namespace, config: dict[str, Any], run_dir: Path
) -> list[BaseCallback]:
    every = args.checkpoint_freq
    every = every if every is not None else config["n_timesteps"] // 4
    if every == 0:
        return []
    return [
        CheckpointCallback(
            save_freq=max(every // config["n_envs"], 1),
            save_path=str(run_dir / "checkpoints"),
            name_prefix="model",
            save_vecnormalize=True,
        )
    ]


class SeededEvalCallback(EvalCallback):
    """SB3's ``EvalCallback``, reseeding the eval env before each evaluation.

    Every evaluation then plays the same episodes (same initial states), so evaluations at
    different times compare the policies, not the luck of the draw.

    :param eval_env: the evaluation env
    :param seed: the seed of each evaluation's first episode
    :param kwargs: the other arguments of ``EvalCallback``
    """

    def __init__(self, eval_env: VecEnv, seed: int, **kwargs: Any) -> None:
        super().__init__(eval_env, **kwargs)
        self.seed = seed

    def _on_step(self) -> bool:
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.eval_env.seed(self.seed)
        return super()._on_step()


class _SaveStats(BaseCallback):
    """Save the training env's VecNormalize statistics next to a new best model."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _on_step(self) -> bool:
        stats = self.model.get_vec_normalize_env()
        if stats is not None:
            stats.save(str(self.path))
        return True


def _print_summary(
    run_dir: Path,
    model: BaseAlgorithm,
    env: VecEnv,
    evaluations: EvalCallback | None,
    final: dict[str, Any],
    interrupted: bool,
) -> None:
    stats = f", {STATS}" if isinstance(env, VecNormalize) else ""
    checkpoints = len(list((run_dir / "checkpoints").glob("*.zip")))
    n_evals = len(evaluations.evaluations_timesteps) if evaluations is not None else 0
    status = f"interrupted at step {model.num_timesteps}" if interrupted else "done"
    lines = [
        f"Training {status}. Run folder: {run_dir}",
        f"  model         {MODEL}{stats}, config.yaml",
        f"  evaluations   evaluations.npz ({n_evals}), best_model.zip",
        f"  checkpoints   checkpoints/ ({checkpoints})",
        f"  tensorboard   tensorboard --logdir {run_dir / 'tensorboard'}",
        f"  final return  {final['mean_return']:.2f} ± {final['std_return']:.2f} over "
        f"{episodes(final['episodes'])} ({FINAL_EVALUATION})",
    ]
    if n_evals == 0:
        lines[2] = "  evaluations   none (--eval-freq 0)"
    if checkpoints == 0:
        lines[3] = "  checkpoints   none (--checkpoint-freq 0)"
    print("\n".join(lines))
