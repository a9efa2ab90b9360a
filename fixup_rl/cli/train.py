"""``fixup-rl train``: train an agent from its recipe into a new run folder, or resume one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from gymnasium.error import DependencyNotInstalled
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    EvalCallback,
    ProgressBarCallback,
)
from stable_baselines3.common.vec_env import sync_envs_normalization

from fixup_rl.agents import ALGOS, NETS, build_agent, make_env, resolve_config
from fixup_rl.agents.schema import DEVICES
from fixup_rl.callbacks import FixupMetricsCallback
from fixup_rl.cli.errors import UsageError, non_negative_int, positive_int, user_errors
from fixup_rl.cli.eval_callback import EVALUATIONS, SeededEvalCallback
from fixup_rl.cli.evaluate import episodes, evaluate
from fixup_rl.cli.resume import resume_run
from fixup_rl.cli.run_folder import (
    CHECKPOINTS,
    EVAL_SEED_OFFSET,
    FINAL_EVALUATION,
    MODEL,
    STATS,
    TENSORBOARD,
    check_name,
    claim_run_dir,
    create_run_dir,
    lock_run_dir,
    run_name,
)
from fixup_rl.cli.training_run import TrainingRun, TrainOptions
from fixup_rl.envs import check_env_id
from fixup_rl.reliability import (
    DEFAULT_MAX_CONSECUTIVE_SKIPS,
    AtomicCheckpointCallback,
    FiniteUpdatesCallback,
    NonFiniteError,
    RestoreRngCallback,
    atomic_write,
    atomic_write_text,
    check_env_finite,
    check_finite_weights,
    latest_checkpoint,
)

INTERRUPTED = 130
TRAINING_FAILED = 1


def add_train_parser(commands: Any) -> None:
    """Add the ``train`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "train",
        help="train an agent from its recipe",
        description="Train an agent from its recipe (fixup_rl/agents/recipes/<algo>.yml) into "
        "a new run folder, or continue a killed run with --resume RUN_DIR. Every option "
        "defaults to the recipe's value.",
    )
    # Options are None unless given, so that --resume can tell which ones were.
    parser.add_argument("--algo", choices=ALGOS, help="default: ppo")
    parser.add_argument(
        "--env",
        type=_env_id,
        metavar="ENV_ID",
        help="a versioned env id of fixup_rl.envs.CATALOGUE or RANDOMIZED (default: Pendulum-v1)",
    )
    parser.add_argument("--net", choices=NETS, help="the network (recipe default: fixup)")
    parser.add_argument(
        "--depth", type=positive_int, help="residual blocks (--net mlp: 1 + 2*depth layers)"
    )
    parser.add_argument("--width", type=positive_int, help="width of every layer")
    parser.add_argument(
        "--timesteps",
        type=positive_int,
        help="training budget in env steps (with --resume: the new total budget)",
    )
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
    parser.add_argument("--out", help="where run folders go (default: runs)")
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
    parser.add_argument("--eval-episodes", type=positive_int, metavar="N", help="default: 5")
    parser.add_argument(
        "--checkpoint-freq",
        type=non_negative_int,
        metavar="N",
        help="save a checkpoint every N env steps and at the end; 0 disables (default: a "
        "quarter of the budget)",
    )
    parser.add_argument(
        "--max-consecutive-skips",
        type=positive_int,
        metavar="K",
        help="stop training when K optimizer steps in a row had non-finite gradients and were "
        f"skipped (default: {DEFAULT_MAX_CONSECUTIVE_SKIPS})",
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its latest checkpoint, with its configuration; "
        "only --timesteps, --eval-freq, --checkpoint-freq and --max-consecutive-skips may be "
        "given with it",
    )
    parser.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Train as ``args`` say; return the exit status."""
    # Configuration, run folder, envs and model: a new run, or one resumed from a checkpoint.
    with user_errors():
        run = resume_run(args) if args.resume is not None else _new_run(args)
    try:
        return _learn_and_save(run)
    finally:
        run.lock.close()


def _learn_and_save(run: TrainingRun) -> int:
    model, config, run_dir = run.model, run.config, run.run_dir
    _print_start(run)

    # Learning: non-finite updates skipped, checkpoints, evaluations, Fixup metrics (residual
    # networks only, as SB3's MLP has no blocks).
    evaluations = _eval_callback(run)
    callbacks: list[BaseCallback] = []
    if run.resumed_from is not None:
        callbacks += [RestoreRngCallback(run.resumed_from.state["rng"])]
    callbacks += [FiniteUpdatesCallback(run.options.max_consecutive_skips)]
    callbacks += [FixupMetricsCallback(log_every=10)] if config["net"] != "mlp" else []
    callbacks += [evaluations] if evaluations is not None else []
    callbacks += _checkpoint_callback(run)
    progress = ProgressBarCallback()
    interrupted = False
    try:
        model.learn(
            config["n_timesteps"] - model.num_timesteps,
            callback=CallbackList([*callbacks, progress]),
            tb_log_name=config["algo"],
            reset_num_timesteps=run.resumed_from is None,
        )
    except KeyboardInterrupt:
        interrupted = True
    except NonFiniteError as error:
        _print_failure(run_dir, error)
        return TRAINING_FAILED
    finally:
        # SB3 closes the bar only when learning ends normally; left open, its refresh thread
        # keeps drawing after an interruption or a failure.
        if hasattr(progress, "pbar"):
            progress.pbar.close()

    # Saving, then a final evaluation that `fixup-rl eval` reproduces from the saved files.
    check_finite_weights(model)
    atomic_write(run_dir / MODEL, lambda path: model.save(path))
    stats = model.get_vec_normalize_env()
    if stats is not None:
        atomic_write(run_dir / STATS, lambda path: stats.save(str(path)))
        sync_envs_normalization(model.get_env(), run.eval_env)
    try:
        final = evaluate(
            model, run.eval_env, run.options.eval_episodes, run.eval_seed, deterministic=True
        )
    except NonFiniteError as error:  # the eval env returned a NaN or an infinity
        message = " ".join(str(error).split())
        print(
            f"fixup-rl train: error: {message}. The trained model was saved in {run_dir / MODEL}"
            "; the final evaluation was not",
            file=sys.stderr,
        )
        return TRAINING_FAILED
    atomic_write_text(run_dir / FINAL_EVALUATION, json.dumps(final) + "\n")

    _print_summary(run, evaluations, final, interrupted)
    return INTERRUPTED if interrupted else 0


def _new_run(args: argparse.Namespace) -> TrainingRun:
    # Configuration and run folder.
    config = resolve_config(args.algo or "ppo", args.env or "Pendulum-v1", **_overrides(args))
    run_dir = Path(args.out or "runs") / (args.name or run_name(config))
    config["tensorboard_log"] = str(run_dir / TENSORBOARD)
    claim_run_dir(run_dir, args.force)
    budget = config["n_timesteps"]
    options = TrainOptions(
        eval_freq=args.eval_freq if args.eval_freq is not None else budget // 10,
        eval_episodes=args.eval_episodes or 5,
        checkpoint_freq=args.checkpoint_freq if args.checkpoint_freq is not None else budget // 4,
        max_consecutive_skips=args.max_consecutive_skips or DEFAULT_MAX_CONSECUTIVE_SKIPS,
    )

    # Model and envs, every env checked for non-finite values; the eval env reads the training
    # statistics, never updates them.
    model, env = build_agent(config)
    guarded = check_env_finite(env)
    if guarded is not env:
        model.set_env(guarded)
    eval_seed = config["seed"] + EVAL_SEED_OFFSET
    eval_env = check_env_finite(make_env(config, n_envs=1, seed=eval_seed, for_eval=True))
    create_run_dir(run_dir, config)
    lock = lock_run_dir(run_dir)
    return TrainingRun(config, run_dir, model, eval_env, eval_seed, options, lock)


def _env_id(text: str) -> str:
    # An id outside the catalogue is refused here, under the option's own name; a MuJoCo task
    # without MuJoCo installed is said later, with how to install it.
    try:
        check_env_id(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("env_id ")) from error
    except DependencyNotInstalled:
        pass
    return text


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


def _print_start(run: TrainingRun) -> None:
    config = run.config
    network = (
        f"{config['algo']} with a {config['net']} network (depth {config['depth']}, width "
        f"{config['width']}) on {config['env_id']}"
    )
    if run.resumed_from is None:
        print(f"Training {network} for {config['n_timesteps']} steps into {run.run_dir}")
    else:
        print(
            f"Resuming {network} from the checkpoint of step {run.resumed_from.step} to step "
            f"{config['n_timesteps']} in {run.run_dir}"
        )
    learning_starts = getattr(run.model, "learning_starts", 0)
    if config["n_timesteps"] <= learning_starts:
        print(
            f"warning: the budget of {config['n_timesteps']} steps ends before learning starts "
            f"(learning_starts={learning_starts}): the network will not be trained; raise "
            f"--timesteps or pass --set learning_starts=N",
            file=sys.stderr,
        )


def _eval_callback(run: TrainingRun) -> SeededEvalCallback | None:
    every = run.options.eval_freq
    if every == 0:
        return None
    return SeededEvalCallback(
        run.eval_env,
        run.eval_seed,
        run.run_dir,
        history=run.history,
        best_mean_reward=run.best_mean_reward,
        n_eval_episodes=run.options.eval_episodes,
        eval_freq=max(every // run.config["n_envs"], 1),
        deterministic=True,
        verbose=0,
    )


def _checkpoint_callback(run: TrainingRun) -> list[BaseCallback]:
    if run.options.checkpoint_freq == 0:
        return []
    return [
        AtomicCheckpointCallback(
            run.options.checkpoint_freq,
            run.run_dir / CHECKPOINTS,
            extra_state={"train_options": run.options.to_json()},
        )
    ]


def _print_failure(run_dir: Path, error: NonFiniteError) -> None:
    # One line: what failed and why, then where the last good state is.
    checkpoint = latest_checkpoint(run_dir / CHECKPOINTS)
    where = (
        f"the latest checkpoint is at step {checkpoint.step} in {run_dir / CHECKPOINTS}"
        if checkpoint is not None
        else "no checkpoint was saved"
    )
    message = " ".join(str(error).split())
    print(f"fixup-rl train: error: {message}. Nothing was saved after it; {where}", file=sys.stderr)


def _print_summary(
    run: TrainingRun,
    evaluations: EvalCallback | None,
    final: dict[str, Any],
    interrupted: bool,
) -> None:
    run_dir, model = run.run_dir, run.model
    stats = f", {STATS}" if model.get_vec_normalize_env() is not None else ""
    checkpoints = len(list((run_dir / CHECKPOINTS).glob("*.zip")))
    n_evals = len(evaluations.evaluations_timesteps) if evaluations is not None else 0
    status = f"interrupted at step {model.num_timesteps}" if interrupted else "done"
    if run.resumed_from is not None:
        status += f" (resumed from step {run.resumed_from.step})"
    lines = [
        f"Training {status}. Run folder: {run_dir}",
        f"  model         {MODEL}{stats}, config.yaml",
        f"  evaluations   {EVALUATIONS} ({n_evals}), best_model.zip",
        f"  checkpoints   {CHECKPOINTS}/ ({checkpoints})",
        f"  tensorboard   tensorboard --logdir {run_dir / TENSORBOARD}",
        f"  final return  {final['mean_return']:.2f} ± {final['std_return']:.2f} over "
        f"{episodes(final['episodes'])} ({FINAL_EVALUATION})",
    ]
    if n_evals == 0:
        lines[2] = "  evaluations   none (--eval-freq 0)"
    if checkpoints == 0:
        lines[3] = "  checkpoints   none (--checkpoint-freq 0)"
    print("\n".join(lines))
