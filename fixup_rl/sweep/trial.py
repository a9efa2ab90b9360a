"""The Tune trainable: one trial is one training run, in a run folder of its own.

The run folder has the layout that ``fixup-rl train`` writes (see
:mod:`fixup_rl.cli.run_folder`), so ``fixup-rl eval`` and TensorBoard read it as any other run.
After each evaluation the trial reports the evaluation return to Tune with a checkpoint (a
complete one of :func:`fixup_rl.reliability.save_checkpoint`: model and optimizers,
VecNormalize statistics, replay buffer); when a trial fails, Tune starts it again and it
resumes from that checkpoint, in the same run folder, with the step count where it stopped.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray import tune
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import VecNormalize, sync_envs_normalization

from fixup_rl.agents import algo_class, build_agent, make_env, resolve_config
from fixup_rl.callbacks import FixupMetricsCallback
from fixup_rl.cli.eval_callback import SeededEvalCallback, read_evaluations
from fixup_rl.cli.evaluate import evaluate
from fixup_rl.cli.resume import continue_tensorboard, finite_check_of
from fixup_rl.cli.run_folder import (
    CHECKPOINTS,
    EVAL_SEED_OFFSET,
    FINAL_EVALUATION,
    MODEL,
    STATS,
    claim_run_dir,
    create_run_dir,
)
from fixup_rl.reliability import (
    AtomicCheckpointCallback,
    Checkpoint,
    FiniteUpdatesCallback,
    RestoreRngCallback,
    atomic_write,
    atomic_write_text,
    check_env_finite,
    check_finite_weights,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from fixup_rl.sweep.results import METRIC


@dataclass(frozen=True)
class TrialSettings:
    """What every trial of a sweep shares, besides its parameters.

    :param runs_dir: the folder of the run folders, one per trial, named after the trial
    :param eval_every: env steps between evaluations; ``None``: a tenth of the trial's budget
    :param eval_episodes: episodes per evaluation
    :param threads: torch threads of each trial
    :param device: the device of trials whose parameters set none (``None``: the recipe's)
    """

    runs_dir: str
    eval_every: int | None
    eval_episodes: int
    threads: int
    device: str | None


def trial_config(params: dict[str, Any], run_dir: Path, device: str | None) -> dict[str, Any]:
    """Return the resolved configuration of one trial.

    :param params: the trial's parameters: ``algo``, ``env`` and overrides of the recipe
    :param run_dir: the trial's run folder, where TensorBoard logs go
    :param device: the device, unless ``params`` set one
    """
    overrides = dict(params)
    algo, env_id = overrides.pop("algo"), overrides.pop("env")
    if device is not None:
        overrides.setdefault("device", device)
    config = resolve_config(algo, env_id, **overrides)
    config["tensorboard_log"] = str(run_dir / "tensorboard")
    return config


def run_trial(params: dict[str, Any], settings: TrialSettings) -> None:
    """Train one trial; Tune calls this in a worker process, with ``tune.with_parameters``.

    :param params: the trial's parameters, drawn by Tune from the sweep's search space
    :param settings: the sweep's settings
    """
    torch.set_num_threads(settings.threads)

    # The configuration and the run folder; a retry keeps the folder and resumes the model.
    run_dir = Path(settings.runs_dir) / tune.get_context().get_trial_name()
    config = trial_config(params, run_dir, settings.device)
    checkpoint = tune.get_checkpoint()
    resumed: Checkpoint | None = None
    if checkpoint is None:
        claim_run_dir(run_dir, force=True)  # a retry that never reached a checkpoint restarts
        model, env = build_agent(config)
        guarded = check_env_finite(env)  # non-finite observations or rewards stop the trial
        if guarded is not env:
            model.set_env(guarded)
        create_run_dir(run_dir, config)
    else:
        with checkpoint.as_directory() as folder:
            model, resumed = _resume(config, Path(folder))
        continue_tensorboard(run_dir, config["algo"], model.num_timesteps)
    start = model.num_timesteps

    # Evaluations, each reported to Tune with a checkpoint; a resumed trial keeps the ones up
    # to its checkpoint. Run-folder checkpoints as fixup-rl train makes them.
    eval_seed = config["seed"] + EVAL_SEED_OFFSET
    eval_env = check_env_finite(make_env(config, n_envs=1, seed=eval_seed, for_eval=True))
    every = settings.eval_every or max(config["n_timesteps"] // 10, 1)
    history, best = read_evaluations(run_dir, start) if start else (None, -np.inf)
    evaluations = SeededEvalCallback(
        eval_env,
        eval_seed,
        run_dir,
        history=history,
        best_mean_reward=best,
        n_eval_episodes=settings.eval_episodes,
        eval_freq=max(every // config["n_envs"], 1),
        deterministic=True,
        verbose=0,
    )
    callbacks: list[BaseCallback] = [RestoreRngCallback(resumed.state["rng"])] if resumed else []
    report = _ReportToTune(evaluations, {**_network(config), "start_timesteps": start})
    callbacks += [FiniteUpdatesCallback(), evaluations, report]
    callbacks += [FixupMetricsCallback(log_every=10)] if config["net"] != "mlp" else []
    callbacks += [
        AtomicCheckpointCallback(max(config["n_timesteps"] // 4, 1), run_dir / CHECKPOINTS)
    ]

    # Learning, for what is left of the budget.
    if start < config["n_timesteps"]:
        model.learn(
            config["n_timesteps"] - start,
            callback=CallbackList(callbacks),
            reset_num_timesteps=start == 0,
            tb_log_name=config["algo"],
        )

    # The run folder's final files, and the final evaluation as the trial's last report.
    check_finite_weights(model)
    atomic_write(run_dir / MODEL, lambda path: model.save(path))
    stats = model.get_vec_normalize_env()
    if stats is not None:
        atomic_write(run_dir / STATS, lambda path: stats.save(str(path)))
        sync_envs_normalization(model.get_env(), eval_env)
    final = evaluate(model, eval_env, settings.eval_episodes, eval_seed, deterministic=True)
    atomic_write_text(run_dir / FINAL_EVALUATION, json.dumps(final) + "\n")
    tune.report(
        {
            **_network(config),
            "timesteps": model.num_timesteps,
            METRIC: final["mean_return"],
            f"{METRIC}_std": final["std_return"],
            "start_timesteps": start,
            "final_return": final["mean_return"],
            "final_return_std": final["std_return"],
        }
    )


def _network(config: dict[str, Any]) -> dict[str, Any]:
    # What the results table shows of every trial, whether the sweep set it or the recipe did.
    keys = ("algo", "net", "depth", "width", "seed")
    return {"env": config["env_id"], **{key: config[key] for key in keys}}


class _ReportToTune(BaseCallback):
    """Report each new evaluation to Tune, with a checkpoint.

    It runs after the evaluation callback, once that has written ``evaluations.npz``: a
    checkpoint is only reported when the run folder holds every evaluation up to it.

    :param evaluations: the evaluation callback
    :param constant: what every report carries besides the evaluation: the network and the
        step count this attempt of the trial started from (0, or its checkpoint's)
    """

    def __init__(self, evaluations: SeededEvalCallback, constant: dict[str, Any]) -> None:
        super().__init__()
        self.evaluations = evaluations
        self.constant = constant
        self.reported = 0

    def _init_callback(self) -> None:
        # Evaluations kept from before a resume were reported by the attempt that made them.
        self.reported = len(self.evaluations.evaluations_results)

    def _on_step(self) -> bool:
        if len(self.evaluations.evaluations_results) == self.reported:
            return True
        self.reported = len(self.evaluations.evaluations_results)
        returns = self.evaluations.evaluations_results[-1]
        metrics = {
            **self.constant,
            "timesteps": self.num_timesteps,
            METRIC: float(np.mean(returns)),
            f"{METRIC}_std": float(np.std(returns)),
        }
        with tempfile.TemporaryDirectory() as folder:
            save_checkpoint(self.model, Path(folder))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        return True


def _resume(config: dict[str, Any], folder: Path) -> tuple[BaseAlgorithm, Checkpoint]:
    # The env is built afresh and takes the checkpoint's statistics; the model keeps its step
    # count, so learn(..., reset_num_timesteps=False) continues where it stopped.
    saved = latest_checkpoint(folder)
    assert saved is not None, f"the Tune checkpoint {folder} holds no fixup_rl checkpoint"
    env = check_env_finite(make_env(config))
    venv = env.venv if isinstance(env, VecNormalize) else env
    model = load_checkpoint(saved, algo_class(config["algo"]), venv, config["device"])
    model.tensorboard_log = config["tensorboard_log"]
    finite_check_of(model.get_env()).num_steps = saved.step // model.n_envs
    return model, saved
