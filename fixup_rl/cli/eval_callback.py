"""The periodic evaluations of ``fixup-rl train``: seeded, written atomically, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from stable_baselines3.common.vec_env import VecEnv

from fixup_rl.reliability import atomic_write, check_finite_weights
from fixup_rl.reliability.atomic import TEMPORARY_MARK, publish

EVALUATIONS = "evaluations.npz"
BEST_MODEL = "best_model.zip"
BEST_STATS = "best_vecnormalize.pkl"


class SeededEvalCallback(EvalCallback):
    """SB3's ``EvalCallback``, reseeding the eval env before each evaluation.

    Every evaluation then plays the same episodes (same initial states), so evaluations at
    different times compare the policies, not the luck of the draw.

    ``evaluations.npz`` (SB3's format), ``best_model.zip`` and ``best_vecnormalize.pkl`` are
    written atomically into ``run_dir``. A resumed run passes the evaluations made up to its
    checkpoint as ``history``: they stay in ``evaluations.npz``, the new ones follow them, and
    evaluations fall on the same steps as in an uninterrupted run.

    :param eval_env: the evaluation env
    :param seed: the seed of each evaluation's first episode
    :param run_dir: the folder of ``evaluations.npz`` and the best model
    :param history: the arrays of an earlier ``evaluations.npz`` to carry on (``timesteps``,
        ``results``, ``ep_lengths``), or ``None``
    :param best_mean_reward: the mean return of the model in ``best_model.zip``, which only a
        better one replaces (``-inf``: none yet)
    :param kwargs: the other arguments of ``EvalCallback``, but its paths and
        ``callback_on_new_best``
    """

    def __init__(
        self,
        eval_env: VecEnv,
        seed: int,
        run_dir: Path,
        history: dict[str, np.ndarray] | None = None,
        best_mean_reward: float = -np.inf,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            eval_env, callback_on_new_best=_SaveBest(run_dir), log_path=str(run_dir), **kwargs
        )
        self.seed = seed
        self.history = history
        self.evaluations_path = run_dir / EVALUATIONS
        # SB3 writes here (np.savez adds ".npz"); each complete file then replaces the old one.
        self.log_path = str(run_dir / f"{TEMPORARY_MARK}evaluations")
        self.best_mean_reward = best_mean_reward

    def _init_callback(self) -> None:
        super()._init_callback()
        # Count calls from the run's start, so a resumed run evaluates on the same steps.
        self.n_calls = self.model.num_timesteps // self.model.n_envs
        if self.history is not None and len(self.history["timesteps"]):
            self.evaluations_timesteps = self.history["timesteps"].tolist()
            self.evaluations_results = self.history["results"].tolist()
            self.evaluations_length = self.history["ep_lengths"].tolist()
            self.last_mean_reward = float(np.mean(self.history["results"][-1]))

    def _on_step(self) -> bool:
        due = self.eval_freq > 0 and self.n_calls % self.eval_freq == 0
        if due:
            self.eval_env.seed(self.seed)
        continue_training = super()._on_step()
        written = Path(f"{self.log_path}.npz")
        if due and written.is_file():
            publish(written, self.evaluations_path)
        return continue_training


def read_evaluations(run_dir: Path, last_step: int) -> tuple[dict[str, np.ndarray], float]:
    """Read ``evaluations.npz`` up to ``last_step``, and the best mean return it ever held.

    :param run_dir: the run folder
    :param last_step: evaluations of later steps are left out of the history
    :return: the history (empty arrays when there is no file) and the best mean return over
        all evaluations in the file, those after ``last_step`` included, since
        ``best_model.zip`` may hold the model of one of them (``-inf`` when none)
    :raises ValueError: when the file cannot be read as SB3's evaluations
    """
    path = run_dir / EVALUATIONS
    empty = {"timesteps": np.zeros(0, dtype=np.int64), "results": np.zeros((0, 0))}
    empty["ep_lengths"] = np.zeros((0, 0), dtype=np.int64)
    if not path.is_file():
        return empty, -np.inf
    try:
        with np.load(path) as data:
            arrays = {key: data[key] for key in ("timesteps", "results", "ep_lengths")}
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} cannot be read as SB3's evaluations ({error})") from error

    best = float(arrays["results"].mean(axis=1).max()) if len(arrays["timesteps"]) else -np.inf
    kept = arrays["timesteps"] <= last_step
    return {key: array[kept] for key, array in arrays.items()}, best


def write_evaluations(run_dir: Path, history: dict[str, np.ndarray]) -> None:
    """Write ``history`` as ``evaluations.npz``, atomically.

    :param run_dir: the run folder
    :param history: ``timesteps``, ``results`` and ``ep_lengths``
    """
    atomic_write(run_dir / EVALUATIONS, lambda path: np.savez(path, **history))


class _SaveBest(BaseCallback):
    """Save a new best model and its VecNormalize statistics, atomically."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir

    def _on_step(self) -> bool:
        check_finite_weights(self.model)
        atomic_write(self.run_dir / BEST_MODEL, lambda path: self.model.save(path))
        stats = self.model.get_vec_normalize_env()
        if stats is not None:
            atomic_write(self.run_dir / BEST_STATS, lambda path: stats.save(str(path)))
        return True
