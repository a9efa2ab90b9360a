"""``fixup-rl train --resume RUN_DIR``: continue a run from its latest checkpoint.

The model, its optimizers' states, its step counters, the VecNormalize statistics and (for
off-policy algorithms) the replay buffer come from the checkpoint; the envs are built anew
and reset, and the generator states are restored once training starts (see
:class:`~fixup_rl.reliability.RestoreRngCallback`). What the run wrote after the checkpoint
is removed first, since the resumed run trains those steps again: TensorBoard events of later
steps and later rows of ``evaluations.npz``. ``best_model.zip`` stays, and only a better model
replaces it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import IO, Any

import yaml
from stable_baselines3.common.utils import get_latest_run_id
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecNormalize

from fixup_rl.agents import algo_class, make_env
from fixup_rl.cli.eval_callback import EVALUATIONS, read_evaluations, write_evaluations
from fixup_rl.cli.run_folder import (
    CHECKPOINTS,
    CONFIG,
    EVAL_SEED_OFFSET,
    MODEL,
    TENSORBOARD,
    lock_run_dir,
    read_config,
)
from fixup_rl.cli.training_run import TrainingRun, TrainOptions
from fixup_rl.reliability import (
    Checkpoint,
    VecCheckFinite,
    atomic_write_text,
    check_env_finite,
    latest_checkpoint,
    load_checkpoint,
)
from fixup_rl.reliability.atomic import remove_partial_files
from fixup_rl.reliability.tensorboard import drop_events_after

# The options a resumed run may change, besides --timesteps; the configuration itself stays.
_OPTIONS = ("eval_freq", "checkpoint_freq", "max_consecutive_skips")
_FIXED = {
    "algo": "--algo",
    "env": "--env",
    "net": "--net",
    "depth": "--depth",
    "width": "--width",
    "seed": "--seed",
    "n_envs": "--n-envs",
    "device": "--device",
    "normalize": "--normalize",
    "set": "--set",
    "out": "--out",
    "name": "--name",
    "force": "--force",
    # Every row of evaluations.npz holds the same number of episodes.
    "eval_episodes": "--eval-episodes",
}


def resume_run(args: argparse.Namespace) -> TrainingRun:
    """Set up the run in ``args.resume`` to continue from its latest checkpoint.

    :param args: the ``train`` arguments, with ``resume`` set
    :return: the run, its model loaded from the checkpoint
    :raises ValueError: for an option that cannot change, a folder that is not a run, a run
        without a checkpoint or already finished, or a checkpoint that cannot be loaded
    """
    run_dir: Path = args.resume
    _check_fixed_options(args)
    config = read_config(run_dir, require_model=False)
    lock = lock_run_dir(run_dir)
    try:
        return _resume(args, run_dir, config, lock)
    except BaseException:
        lock.close()
        raise


def _resume(
    args: argparse.Namespace, run_dir: Path, config: dict[str, Any], lock: IO[bytes]
) -> TrainingRun:
    # The latest checkpoint, and the options and budget to continue with.
    checkpoint = _checkpoint(run_dir, config)
    options = _options(args, checkpoint)
    budget = args.timesteps if args.timesteps is not None else config["n_timesteps"]
    _check_budget(run_dir, checkpoint.step, budget)

    # Envs and model: fresh envs inside the checkpoint's statistics.
    env = check_env_finite(make_env(config))
    venv = env.venv if isinstance(env, VecNormalize) else env
    try:
        model = load_checkpoint(checkpoint, algo_class(config["algo"]), venv, config["device"])
    except ModuleNotFoundError:
        raise  # sb3-contrib is missing: its message says how to install it
    except Exception as error:  # a damaged file, a model of another env...
        reason = " ".join(str(error).split()) or type(error).__name__
        raise ValueError(
            f"cannot load the checkpoint of step {checkpoint.step} in {run_dir / CHECKPOINTS}: "
            f"{reason}"
        ) from error
    model.tensorboard_log = str(run_dir / TENSORBOARD)
    finite_check_of(model.get_env()).num_steps = checkpoint.step // model.n_envs
    eval_seed = config["seed"] + EVAL_SEED_OFFSET
    eval_env = check_env_finite(make_env(config, n_envs=1, seed=eval_seed, for_eval=True))

    # What the run wrote after the checkpoint goes; the resumed run writes it again.
    if budget != config["n_timesteps"]:
        config["n_timesteps"] = budget
        atomic_write_text(run_dir / CONFIG, yaml.safe_dump(config, sort_keys=False))
    history, best_mean_reward = read_evaluations(run_dir, checkpoint.step)
    if (run_dir / EVALUATIONS).is_file():
        write_evaluations(run_dir, history)
    continue_tensorboard(run_dir, config["algo"], checkpoint.step)
    remove_partial_files(run_dir)
    return TrainingRun(
        config=config,
        run_dir=run_dir,
        model=model,
        eval_env=eval_env,
        eval_seed=eval_seed,
        options=options,
        lock=lock,
        resumed_from=checkpoint,
        history=history,
        best_mean_reward=best_mean_reward,
    )


def _check_fixed_options(args: argparse.Namespace) -> None:
    for dest, flag in _FIXED.items():
        value = getattr(args, dest)
        given = bool(value) if dest in ("set", "force") else value is not None
        if given:
            raise ValueError(
                f"{flag} cannot be used with --resume: a resumed run keeps the configuration in "
                f"{args.resume / CONFIG}; only --timesteps, --eval-freq, --checkpoint-freq and "
                "--max-consecutive-skips may change"
            )


def _checkpoint(run_dir: Path, config: dict[str, Any]) -> Checkpoint:
    checkpoint = latest_checkpoint(run_dir / CHECKPOINTS)
    if checkpoint is None:
        raise ValueError(
            f"{run_dir} holds no checkpoint to resume from: the run stopped before its first "
            "checkpoint (every --checkpoint-freq steps), or ran with --checkpoint-freq 0"
        )
    expected = algo_class(config["algo"]).__name__
    if checkpoint.state.get("algo") != expected:
        raise ValueError(
            f"the latest checkpoint in {run_dir / CHECKPOINTS} is of {checkpoint.state.get('algo')}"
            f", but {run_dir / CONFIG} trains {expected}"
        )
    return checkpoint


def _options(args: argparse.Namespace, checkpoint: Checkpoint) -> TrainOptions:
    saved = checkpoint.state.get("train_options")
    if not isinstance(saved, dict):
        raise ValueError(
            f"the checkpoint of step {checkpoint.step} was not written by fixup-rl train (its "
            "state file has no train_options)"
        )
    given = {name: getattr(args, name) for name in _OPTIONS}
    options = {name: saved[name] if value is None else value for name, value in given.items()}
    return TrainOptions(eval_episodes=saved["eval_episodes"], **options)


def _check_budget(run_dir: Path, step: int, budget: int) -> None:
    if budget < step:
        raise ValueError(
            f"--timesteps {budget} is below the step of the latest checkpoint ({step}); pass "
            "more, or --resume without --timesteps"
        )
    if budget == step and (run_dir / MODEL).is_file():
        raise ValueError(
            f"the run in {run_dir} already finished: its latest checkpoint is at step {step} of "
            f"{budget}; pass --timesteps N with N > {step} to train it further"
        )


def finite_check_of(env: VecEnv) -> VecCheckFinite:
    """The :class:`~fixup_rl.reliability.VecCheckFinite` inside ``env``'s wrappers.

    :param env: an env wrapped by :func:`~fixup_rl.reliability.check_env_finite`
    :return: the check, whose ``num_steps`` a resumed run sets to its checkpoint's
    """
    while not isinstance(env, VecCheckFinite):
        assert isinstance(env, VecEnvWrapper), "check_env_finite put the check in"
        env = env.venv
    return env


def continue_tensorboard(run_dir: Path, algo: str, step: int) -> None:
    """Prepare a run folder's TensorBoard run for training resumed from ``step``.

    SB3's ``learn(reset_num_timesteps=False)`` logs into the latest ``<algo>_<n>`` folder,
    which must exist (or SB3 would start ``<algo>_0``); the events logged after ``step`` by
    the run that was killed are removed, so that no step is logged twice.

    :param run_dir: the run folder
    :param algo: the algorithm, which names the TensorBoard run
    :param step: the checkpoint's step
    """
    folder = run_dir / TENSORBOARD
    latest = get_latest_run_id(str(folder), algo)
    events = folder / f"{algo}_{max(latest, 1)}"
    os.makedirs(events, exist_ok=True)
    remove_partial_files(events)
    drop_events_after(events, step)
